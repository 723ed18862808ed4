// Being written: see access/governed.h.
#include "access/governed.h"
