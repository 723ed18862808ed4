// Demo principals for the quickstart (issue #6): on a store holding the demo
// cohort (ingest/demo_cohort.h), an oncology group restricted to a few tissue
// source sites and a researcher who sees every row but no direct identifier,
// next to the metastore admin that runs the set-up.
//
//   auto g = Governed::Open("vesta-data/store.vesta").value();
//   Caller admin = g->CallerFor("admin").value();
//   auto report = SetUpDemoPrincipals(*g, admin, {}).value();
//   for (const auto& p : report.principals) if (!p.token.empty()) SaveToken(p.user, p.token);
//
// What it sets up (every change through the governed admin calls of
// access/governed.h, as `admin`: privilege-checked and audited):
//   principals  group oncology with user oncologist; group researchers with
//               user researcher; options.admin_group (default "admins", the
//               group `vesta admin bootstrap` creates) with the admin in it;
//   row filters main.imaging.radiomics and main.clinical.patients:
//                 NOT is_member('oncology') OR tissue_source_site IN ('19', '76', 'CS', 'HT')
//               main.genomics.somatic_mutations (no site column; the site is
//               characters 6-7 of the barcode):
//                 NOT is_member('oncology') OR patient_id LIKE 'TCGA-19-%' OR ...
//               so members of oncology see only those sites' rows and
//               everyone else every row (the filters see raw values);
//   masks       patient_id (all three tables), study_id, mutation_id and
//               sample_barcode: keyed hash (the same value hashes the same in
//               every table of the store, so joins on patient_id still work);
//               scan_date: NULL. Exempt: oncology and options.admin_group
//               (a metastore admin is not exempt from masks by itself:
//               governance/policies.h resolves masks by group membership
//               only). So the researcher sees no direct identifier;
//   grants      to both groups: USE CATALOG on main; USE SCHEMA on
//               main.imaging, main.clinical, main.genomics; SELECT on
//               main.imaging.radiomics, main.imaging.radiomics_feature_stats,
//               main.clinical.patients, main.genomics.somatic_mutations and,
//               once it exists, on the index options.index (an index is a
//               securable of its own: a grant on its source table does not
//               reach it; its row filter and masks are the source table's);
//   tokens      one token without expiry (comment "demo") for each demo user
//               that has no live token, i.e. for users created by this run
//               (and for one left without a live token by an interrupted
//               run); a user with a live token keeps it and gets none.
// The policies are set before the grants, so no demo principal can ever read
// a demo table unfiltered or unmasked, even if a run is interrupted.
//
// Idempotent: each piece is read first (ListPrincipals, DescribePrincipal,
// GetRowFilter, ListColumnMasks, GetPermissions, ListTokens) and changed only
// when it differs from the above, so a second run changes no principal,
// membership, grant, policy or token (it appends only the audit records of
// those reads). It only adds: it removes no other grant, member or token. A
// row filter or mask on the demo tables that differs from the above is
// replaced (reported in `changes`).
//
// Thread-safety: thread-safe (Governed is); two concurrent runs on one store
// may both try to create the same principal, and one then fails with
// AlreadyExists (run it again).
#pragma once

#include <string>
#include <vector>

#include "access/governed.h"
#include "common/status.h"
#include "governance/policies.h"
#include "governance/store.h"

namespace vesta::access {

// The demo's principal names.
inline constexpr const char* kDemoOncologyGroup = "oncology";
inline constexpr const char* kDemoOncologist = "oncologist";
inline constexpr const char* kDemoResearchersGroup = "researchers";
inline constexpr const char* kDemoResearcher = "researcher";

struct DemoPrincipalsOptions {
  // The tissue source sites (TCGA barcode characters 6-7, two upper-case
  // letters or digits) whose rows the oncology group sees. The default holds
  // 46 of the 167 imaging studies, both cohorts (GBM: 19, 76 with 8 + 14
  // studies; LGG: CS, HT with 11 + 13), and unlike the larger GBM sites 02
  // and 08 nearly all of its imaged patients have MC3 mutations (44 of 46),
  // so similar cases found by the oncologist join to mutations.
  std::vector<std::string> oncology_sites = {"19", "76", "CS", "HT"};
  // The vector index over main.imaging.radiomics that demo queries use; its
  // SELECT grant is added once it exists (run again after creating it).
  std::string index = "main.imaging.radiomics_idx";
  // The group exempt from the masks that the admin is put in (created if
  // missing). "admins" is the metastore admin group of `vesta admin bootstrap`.
  std::string admin_group = "admins";

  // Errors: InvalidArgument naming the field (no sites, a site that is not
  // two upper-case letters or digits, an index name that is not
  // catalog.schema.name, an invalid group name).
  Status Validate() const;
};

// One demo principal as the run left it.
struct DemoPrincipal {
  std::string user;
  std::string group;     // the demo group it is in (the admin: options.admin_group)
  std::string sees;      // one line: what its reads return
  bool created = false;  // the user was created by this run
  // A token issued by this run ("vst_..."; the only copy: save it, never log
  // it) and its id; both empty when none was issued (the user already had a
  // live token; always for the admin).
  std::string token;
  std::string token_id;
};

// A column mask the demo sets.
struct DemoMask {
  governance::TableName table;
  std::string column;
  governance::MaskSpec mask;
};

struct DemoPrincipalsReport {
  // The admin, the oncologist, the researcher.
  std::vector<DemoPrincipal> principals;
  // The row filters and masks of the demo tables, as they now are.
  std::vector<std::pair<governance::TableName, std::string>> row_filters;
  std::vector<DemoMask> masks;
  // Whether both groups hold SELECT on options.index; false when the index
  // does not exist yet (run again after creating it).
  bool index_granted = false;
  // What this run changed, one line each, in order ("created group
  // oncology", "set the row filter of main.clinical.patients", ...); empty
  // when it changed nothing.
  std::vector<std::string> changes;
};

// Sets up the demo principals above on the demo tables of `g`'s store, as
// `admin`, and returns what they are (report.principals[i].token holds the
// tokens issued by this run).
// REQUIRES: `admin` is a metastore admin (governance needs it to create
// principals and issue tokens for others); otherwise the first call fails
// with PermissionDenied and nothing is changed.
// Errors: InvalidArgument (options.Validate()); PermissionDenied (admin is
// not a metastore admin); NotFound naming the missing demo tables
// ("... load the demo cohort first: vesta demo load") before anything is
// changed; FailedPrecondition if a demo name exists as the other kind of
// principal (a user "oncology", a group "researcher"); otherwise the error
// of the first governed call that failed. A failed run may have made some
// of the changes (each is durable and audited on its own): run it again to
// complete them. Tokens are issued last; if a later one fails, those this
// run issued are revoked again (best effort), so the next run issues new
// ones instead of leaving a user with a live token nobody has.
// Ownership: `g` and `admin` are borrowed for the call.
// Thread-safety: see the file comment.
Result<DemoPrincipalsReport> SetUpDemoPrincipals(Governed& g, const Caller& admin,
                                                 const DemoPrincipalsOptions& options = {});

}  // namespace vesta::access
