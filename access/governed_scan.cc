// Index scans and index metadata: see access/governed.h. (Being written.)
#include "access/governed.h"
