// Demo principals for the quickstart (access/demo_principals.h). Each step
// reads the current state through a governed call and changes it only where
// it differs from the demo's, so that a second run changes nothing.
#include "access/demo_principals.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "governance/principals.h"
#include "governance/privileges.h"

namespace vesta::access {
namespace {

using governance::MaskSpec;
using governance::PermissionsChange;
using governance::PrincipalInfo;
using governance::PrincipalKind;
using governance::Privilege;
using governance::PrivilegeAssignment;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;

constexpr const char* kRadiomics = "main.imaging.radiomics";
constexpr const char* kFeatureStats = "main.imaging.radiomics_feature_stats";
constexpr const char* kPatients = "main.clinical.patients";
constexpr const char* kMutations = "main.genomics.somatic_mutations";
constexpr const char* kTokenComment = "demo";

TableName Name(const char* full_name) {
  return TableName::Parse(full_name).value();
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// "NOT is_member('oncology') OR tissue_source_site IN ('19', '76')". Sites
// are validated (two letters or digits), so they need no quoting.
std::string SiteColumnFilter(const std::vector<std::string>& sites) {
  std::vector<std::string> quoted;
  for (const std::string& s : sites) quoted.push_back("'" + s + "'");
  return std::string("NOT is_member('") + kDemoOncologyGroup + "') OR tissue_source_site IN (" +
         Join(quoted, ", ") + ")";
}

// The same restriction on a table without a site column: the site is
// characters 6-7 of the TCGA barcode "TCGA-<site>-<participant>".
std::string BarcodeFilter(const std::vector<std::string>& sites) {
  std::string out = std::string("NOT is_member('") + kDemoOncologyGroup + "')";
  for (const std::string& s : sites) out += " OR patient_id LIKE 'TCGA-" + s + "-%'";
  return out;
}

// Same kind, same constant and reveal where they matter, same exempt groups
// (ignoring case and order).
bool SameMask(const MaskSpec& a, const MaskSpec& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == MaskSpec::kConstant && a.constant.ToString() != b.constant.ToString()) return false;
  if (a.kind == MaskSpec::kPartialReveal && a.reveal_last != b.reveal_last) return false;
  auto groups = [](const MaskSpec& m) {
    std::vector<std::string> g;
    for (const std::string& x : m.exempt_groups) g.push_back(AsciiLower(x));
    std::sort(g.begin(), g.end());
    g.erase(std::unique(g.begin(), g.end()), g.end());
    return g;
  };
  return groups(a) == groups(b);
}

std::string DescribeMask(const MaskSpec& m) {
  std::string out(governance::MaskKindName(m.kind));
  out += " (exempt: " + Join(m.exempt_groups, ", ") + ")";
  return out;
}

// The state a run brings about, and what it did.
class DemoSetUp {
 public:
  DemoSetUp(Governed& g, const Caller& admin, const DemoPrincipalsOptions& o) : g_(g), admin_(admin), o_(o) {}

  Result<DemoPrincipalsReport> Run() {
    VESTA_RETURN_IF_ERROR(o_.Validate());
    // Metastore admins only: refused here, before anything changes.
    VESTA_ASSIGN_OR_RETURN(std::vector<PrincipalInfo> all, g_.ListPrincipals(admin_));
    for (const PrincipalInfo& p : all) kinds_[AsciiLower(p.name)] = p.kind;
    VESTA_RETURN_IF_ERROR(CheckTables());
    VESTA_RETURN_IF_ERROR(CheckKinds());

    VESTA_RETURN_IF_ERROR(EnsureGroup(kDemoOncologyGroup));
    VESTA_RETURN_IF_ERROR(EnsureGroup(kDemoResearchersGroup));
    VESTA_RETURN_IF_ERROR(EnsureGroup(o_.admin_group));
    VESTA_ASSIGN_OR_RETURN(const bool oncologist_created, EnsureUser(kDemoOncologist));
    VESTA_ASSIGN_OR_RETURN(const bool researcher_created, EnsureUser(kDemoResearcher));
    VESTA_RETURN_IF_ERROR(EnsureMember(kDemoOncologyGroup, kDemoOncologist));
    VESTA_RETURN_IF_ERROR(EnsureMember(kDemoResearchersGroup, kDemoResearcher));
    VESTA_RETURN_IF_ERROR(EnsureMember(o_.admin_group, admin_.user));

    // Policies before grants: no demo principal may ever read a demo table
    // unfiltered or unmasked.
    const std::string site_filter = SiteColumnFilter(o_.oncology_sites);
    report_.row_filters = {{Name(kRadiomics), site_filter},
                           {Name(kPatients), site_filter},
                           {Name(kMutations), BarcodeFilter(o_.oncology_sites)}};
    for (const auto& [table, filter] : report_.row_filters)
      VESTA_RETURN_IF_ERROR(EnsureRowFilter(table, filter));
    const std::vector<std::string> exempt = {kDemoOncologyGroup, o_.admin_group};
    const MaskSpec keyed_hash{.kind = MaskSpec::kKeyedHash, .exempt_groups = exempt};
    const MaskSpec to_null{.kind = MaskSpec::kNull, .exempt_groups = exempt};
    report_.masks = {
        {Name(kRadiomics), "study_id", keyed_hash},      {Name(kRadiomics), "patient_id", keyed_hash},
        {Name(kRadiomics), "scan_date", to_null},        {Name(kPatients), "patient_id", keyed_hash},
        {Name(kMutations), "mutation_id", keyed_hash},   {Name(kMutations), "patient_id", keyed_hash},
        {Name(kMutations), "sample_barcode", keyed_hash}};
    VESTA_RETURN_IF_ERROR(EnsureMasks());

    VESTA_RETURN_IF_ERROR(EnsureGrants());

    const std::string sites = Join(o_.oncology_sites, ", ");
    report_.principals = {
        {admin_.user, o_.admin_group, "all rows, raw values (exempt from the masks)"},
        {kDemoOncologist, kDemoOncologyGroup, "only tissue source sites " + sites + "; raw values",
         oncologist_created},
        {kDemoResearcher, kDemoResearchersGroup,
         "all rows; identifiers as keyed hashes (joinable), scan_date NULL", researcher_created}};
    VESTA_RETURN_IF_ERROR(EnsureTokens());
    return std::move(report_);
  }

 private:
  // The four demo tables exist (NotFound naming the missing ones otherwise).
  Status CheckTables() {
    Result<std::vector<governance::TableInfo>> tables = g_.ListTables(admin_, "main");
    std::vector<std::string> missing;
    if (tables.ok()) {
      for (const char* want : {kRadiomics, kFeatureStats, kPatients, kMutations}) {
        const bool found = std::any_of(tables->begin(), tables->end(), [&](const governance::TableInfo& t) {
          return EqualsIgnoreCase(t.name.ToString(), want);
        });
        if (!found) missing.push_back(want);
      }
    } else if (tables.status().code() == StatusCode::kNotFound) {
      missing = {"catalog main"};
    } else {
      return tables.status();
    }
    if (missing.empty()) return Status::OK();
    return Status::NotFound("the demo tables are not there (missing: " + Join(missing, ", ") +
                            "): load the demo cohort first: vesta demo load");
  }

  // No demo name is taken by the other kind of principal.
  Status CheckKinds() const {
    const std::vector<std::pair<std::string, PrincipalKind>> wanted = {
        {kDemoOncologyGroup, PrincipalKind::kGroup},
        {kDemoResearchersGroup, PrincipalKind::kGroup},
        {o_.admin_group, PrincipalKind::kGroup},
        {kDemoOncologist, PrincipalKind::kUser},
        {kDemoResearcher, PrincipalKind::kUser}};
    for (const auto& [name, kind] : wanted) {
      auto it = kinds_.find(AsciiLower(name));
      if (it != kinds_.end() && it->second != kind) {
        return Status::FailedPrecondition(
            "'" + name + "' exists as a " + std::string(governance::PrincipalKindName(it->second)) +
            "; the demo needs a " + std::string(governance::PrincipalKindName(kind)) + " of that name");
      }
    }
    return Status::OK();
  }

  Status EnsureGroup(const std::string& name) {
    if (kinds_.count(AsciiLower(name)) != 0) return Status::OK();
    VESTA_RETURN_IF_ERROR(g_.CreatePrincipal(admin_, name, PrincipalKind::kGroup).status());
    kinds_[AsciiLower(name)] = PrincipalKind::kGroup;
    report_.changes.push_back("created group " + name);
    return Status::OK();
  }

  // Returns whether the user was created.
  Result<bool> EnsureUser(const std::string& name) {
    if (kinds_.count(AsciiLower(name)) != 0) return false;
    VESTA_RETURN_IF_ERROR(g_.CreatePrincipal(admin_, name, PrincipalKind::kUser).status());
    kinds_[AsciiLower(name)] = PrincipalKind::kUser;
    report_.changes.push_back("created user " + name);
    return true;
  }

  // `member` is in `group`, directly or through nested groups.
  Status EnsureMember(const std::string& group, const std::string& member) {
    VESTA_ASSIGN_OR_RETURN(Governed::PrincipalDetails d, g_.DescribePrincipal(admin_, member));
    for (const std::string& in : d.groups) {
      if (EqualsIgnoreCase(in, group)) return Status::OK();
    }
    VESTA_RETURN_IF_ERROR(g_.AddMember(admin_, group, member));
    report_.changes.push_back("added " + member + " to group " + group);
    return Status::OK();
  }

  Status EnsureRowFilter(const TableName& table, const std::string& filter) {
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> current, g_.GetRowFilter(admin_, table));
    if (current && *current == filter) return Status::OK();
    VESTA_RETURN_IF_ERROR(g_.SetRowFilter(admin_, table, filter));
    report_.changes.push_back(std::string(current ? "replaced" : "set") + " the row filter of " +
                              table.ToString() + ": " + filter);
    return Status::OK();
  }

  Status EnsureMasks() {
    std::map<std::string, std::vector<std::pair<std::string, MaskSpec>>> current;  // by table
    for (const DemoMask& m : report_.masks) {
      const std::string key = m.table.ToString();
      if (current.count(key) == 0) {
        VESTA_ASSIGN_OR_RETURN(current[key], g_.ListColumnMasks(admin_, m.table));
      }
      const auto& masks = current[key];
      auto it = std::find_if(masks.begin(), masks.end(), [&](const std::pair<std::string, MaskSpec>& c) {
        return EqualsIgnoreCase(c.first, m.column);
      });
      if (it != masks.end() && SameMask(it->second, m.mask)) continue;
      VESTA_RETURN_IF_ERROR(g_.SetColumnMask(admin_, m.table, m.column, m.mask));
      report_.changes.push_back(std::string(it != masks.end() ? "replaced" : "set") + " the mask of " + key +
                                "." + m.column + ": " + DescribeMask(m.mask));
    }
    return Status::OK();
  }

  // Adds to each demo group the privileges on `s` it lacks (a direct grant
  // of the privilege or of ALL PRIVILEGES counts). NotFound if `s` does not
  // exist.
  Status EnsureGrant(const Securable& s, Privilege p) {
    VESTA_ASSIGN_OR_RETURN(std::vector<PrivilegeAssignment> grants, g_.GetPermissions(admin_, s));
    std::vector<PermissionsChange> changes;
    for (const char* group : {kDemoOncologyGroup, kDemoResearchersGroup}) {
      const bool held = std::any_of(grants.begin(), grants.end(), [&](const PrivilegeAssignment& a) {
        return EqualsIgnoreCase(a.principal, group) &&
               std::any_of(a.privileges.begin(), a.privileges.end(),
                           [&](Privilege h) { return governance::PrivilegeCovers(h, p); });
      });
      if (!held) changes.push_back({.principal = group, .add = {p}});
    }
    if (changes.empty()) return Status::OK();
    std::vector<std::string> to;
    for (const PermissionsChange& c : changes) to.push_back(c.principal);
    VESTA_RETURN_IF_ERROR(g_.UpdatePermissions(admin_, s, std::move(changes)).status());
    report_.changes.push_back("granted " + std::string(governance::PrivilegeName(p)) + " on " + s.ToString() +
                              " to " + Join(to, ", "));
    return Status::OK();
  }

  Status EnsureGrants() {
    VESTA_ASSIGN_OR_RETURN(Securable catalog, Securable::Parse(SecurableType::kCatalog, "main"));
    VESTA_RETURN_IF_ERROR(EnsureGrant(catalog, Privilege::kUseCatalog));
    for (const char* schema : {"main.imaging", "main.clinical", "main.genomics"}) {
      VESTA_ASSIGN_OR_RETURN(Securable s, Securable::Parse(SecurableType::kSchema, schema));
      VESTA_RETURN_IF_ERROR(EnsureGrant(s, Privilege::kUseSchema));
    }
    for (const char* table : {kRadiomics, kFeatureStats, kPatients, kMutations}) {
      VESTA_RETURN_IF_ERROR(EnsureGrant(Securable::Table(Name(table)), Privilege::kSelect));
    }
    // The index exists once the service created it (AuthorizeCreateIndex
    // recorded its owner); until then GetPermissions answers NotFound.
    VESTA_ASSIGN_OR_RETURN(TableName index, TableName::Parse(o_.index));
    const Status st = EnsureGrant(Securable::Index(index), Privilege::kSelect);
    if (st.code() == StatusCode::kNotFound) return Status::OK();
    VESTA_RETURN_IF_ERROR(st);
    report_.index_granted = true;
    return Status::OK();
  }

  // A token for each demo user without a live one; on failure, the tokens
  // issued so far are revoked again (best effort).
  Status EnsureTokens() {
    std::vector<std::string> issued;
    Status st = [&]() -> Status {
      for (DemoPrincipal& p : report_.principals) {
        if (EqualsIgnoreCase(p.user, admin_.user)) continue;
        VESTA_ASSIGN_OR_RETURN(std::vector<governance::TokenInfo> live, g_.ListTokens(admin_, p.user));
        if (!live.empty()) continue;
        VESTA_ASSIGN_OR_RETURN(Governed::NewToken t,
                               g_.IssueToken(admin_, p.user, std::nullopt, kTokenComment));
        issued.push_back(t.info.token_id);
        p.token = std::move(t.token);
        p.token_id = t.info.token_id;
        report_.changes.push_back("issued token " + p.token_id + " for " + p.user);
      }
      return Status::OK();
    }();
    if (!st.ok()) {
      for (const std::string& id : issued) (void)g_.RevokeToken(admin_, id);
    }
    return st;
  }

  Governed& g_;
  const Caller& admin_;
  const DemoPrincipalsOptions& o_;
  std::map<std::string, PrincipalKind> kinds_;  // every principal, by lower-cased name
  DemoPrincipalsReport report_;
};

}  // namespace

Status DemoPrincipalsOptions::Validate() const {
  if (oncology_sites.empty()) return Status::InvalidArgument("oncology_sites: at least one site is required");
  for (const std::string& s : oncology_sites) {
    const bool ok = s.size() == 2 && std::all_of(s.begin(), s.end(), [](char c) {
                      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                    });
    if (!ok) {
      return Status::InvalidArgument("oncology_sites: '" + s +
                                     "' is not a tissue source site (two upper-case letters or digits)");
    }
  }
  Result<TableName> index_name = TableName::Parse(index);
  if (!index_name.ok()) return Status::InvalidArgument("index: " + index_name.status().message());
  return governance::Principals::ValidateName("admin_group", admin_group);
}

Result<DemoPrincipalsReport> SetUpDemoPrincipals(Governed& g, const Caller& admin,
                                                 const DemoPrincipalsOptions& options) {
  return DemoSetUp(g, admin, options).Run();
}

}  // namespace vesta::access
