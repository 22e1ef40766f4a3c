"""People planned: one user per e-mail, a profile for every student, orphaned profiles."""

from collections import Counter, defaultdict

from lectern.importing import rules
from lectern.importing.plan import Planner, Ref, Row, _order
from lectern.models.enums import Role


def _institution(
    planner: Planner,
    rows: list[Row],
    by_courses: dict[str, Counter[Ref]],
    domains: dict[str, set[Ref]],
) -> tuple[Ref | None, str | None]:
    """The institution a person goes to, and which rule decided it (None: their own)."""
    for row in rows:
        if (ref := planner.institution.get(row.get("institution_id") or "")) is not None:
            return ref, None
    courses: Counter[Ref] = Counter()
    for row in rows:
        courses.update(by_courses.get(row["id"], Counter()))
    if courses:
        return courses.most_common(1)[0][0], "institution_from_enrollments"
    domain = (rows[0].get("email") or "").rpartition("@")[2].strip().lower()
    if len(candidates := domains.get(domain, set())) == 1:
        return next(iter(candidates)), "institution_from_email_domain"
    return None, None


def plan_people(planner: Planner) -> None:
    legacy, known, report = planner.legacy, planner.known, planner.report
    by_courses = planner.institutions_of_person()
    profiles: dict[str, list[Row]] = defaultdict(list)
    user_ids = {row["id"] for row in legacy["users"]}
    orphans: list[Row] = []
    for row in legacy["students"]:
        owner = row["user_id"] if row["user_id"] in user_ids else None
        owner = owner or (row["id"] if row["id"] in user_ids else None)
        if owner is None:
            orphans.append(row)
        else:
            profiles[owner].append(row)
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in legacy["users"]:
        if not (row["email"] or "").strip():
            report.row("users", "skipped", "no_email")
            for _ in profiles.pop(row["id"], []):
                report.row("students", "skipped", "user_skipped")
            continue
        groups[rules.email_key(row["email"])].append(row)
    domains: dict[str, set[Ref]] = defaultdict(set)
    for row in legacy["users"]:
        if (ref := planner.institution.get(row["institution_id"] or "")) is not None:
            domains[(row["email"] or "").rpartition("@")[2].strip().lower()].add(ref)

    for key, rows in groups.items():
        rows.sort(key=_order)
        _user(planner, key, rows, by_courses, domains, profiles)
    for row in sorted(orphans, key=_order):
        _orphan(planner, row, by_courses, domains, groups)
    del known


def _user(
    planner: Planner,
    key: str,
    rows: list[Row],
    by_courses: dict[str, Counter[Ref]],
    domains: dict[str, set[Ref]],
    profiles: dict[str, list[Row]],
) -> None:
    report, known = planner.report, planner.known
    ids = [k for r in rows if (k := planner.known_id("users", r["id"])) is not None]
    existing = known.users.get(key)
    ref: Ref
    new: str
    if ids:
        ref = ids[0]
        institution: Ref | None = existing.institution_id if existing else None
    elif existing is not None:
        ref, institution = existing.id, existing.institution_id
        report.decide("users_matched_existing", institution)
    else:
        institution, rule = _institution(planner, rows, by_courses, domains)
        if institution is None:
            for row in rows:
                report.row("users", "skipped", "no_institution")
                for _ in profiles.pop(row["id"], []):
                    report.row("students", "skipped", "user_skipped")
            return
        if rule:
            report.decide(rule, institution)
        ref = new = rows[0]["id"]
        _new_user(planner, new, institution, rows, profiles)
    if institution is None:
        institution = planner.institution.get(rows[0]["institution_id"] or "", "unknown")
    for row in rows:
        planner.person[row["id"]] = ref
        if planner.known_id("users", row["id"]) is not None:
            report.row("users", "skipped", "already_imported")
        elif row["id"] == ref:
            report.row("users", "imported")
            planner.link("users", row["id"], "users", ref)
        else:
            report.row("users", "merged", "same_email")
            report.decide("users_merged_by_email", institution)
            planner.link("users", row["id"], "users", ref)
        for profile in profiles.pop(row["id"], []):
            planner.person[profile["id"]] = ref
            if planner.known_id("students", profile["id"]) is not None:
                report.row("students", "skipped", "already_imported")
            else:
                outcome = "imported" if profile.get("_imported") else "merged"
                report.row("students", outcome, None if profile.get("_imported") else "same_user")
                planner.link("students", profile["id"], "users", ref)
    planner.user_institution[ref] = institution
    planner.user_name.setdefault(ref, known.user_names.get(ref, "") if isinstance(ref, int) else "")


def _new_user(
    planner: Planner, ref: str, institution: Ref, rows: list[Row], profiles: dict[str, list[Row]]
) -> None:
    report = planner.report
    first = rows[0]
    role = rules.parse_role(first["role"])
    if role is None:
        role = Role.STUDENT
        report.decide("roles_unknown_as_student", institution)
    elif first["role"] != role.value:
        report.decide("roles_parsed", institution)
    hashes = [h for r in rows if (h := rules.usable_password_hash(r["password_hash"]))]
    if not hashes:
        report.decide("users_without_usable_password", institution)
    own = [p for r in rows for p in profiles.get(r["id"], [])]
    name = next((n.strip() for r in rows + own if (n := r.get("name")) and n.strip()), "")
    name = name or first["email"].strip().partition("@")[0]
    planner.add("users", {
        "key": ref, "institution_id": institution, "email": first["email"].strip()[:320],
        "email_key": rules.email_key(first["email"])[:320],
        "password_hash": hashes[0] if hashes else rules.NO_PASSWORD,
        "full_name": name[:200], "role": role, "is_platform_admin": False,
        "created_at": first["created_at"],
    })  # fmt: skip
    report.create("users", institution)
    if (first.get("status") or "").strip().casefold() == "suspended":
        report.decide("suspended_users_imported_active", institution)
    planner.user_name[ref] = name[:200]
    if own:
        own[0]["_imported"] = True
        planner.add(
            "student_profiles",
            {"user_id": ref, "bio": own[0]["bio"] or "", "created_at": own[0]["created_at"]},
        )
    elif role == Role.STUDENT:
        planner.add(
            "student_profiles", {"user_id": ref, "bio": "", "created_at": first["created_at"]}
        )
        report.decide("profiles_created", institution)
    if role == Role.STUDENT:
        planner.new_students.append(ref)


def _orphan(
    planner: Planner,
    row: Row,
    by_courses: dict[str, Counter[Ref]],
    domains: dict[str, set[Ref]],
    groups: dict[str, list[Row]],
) -> None:
    """A profile whose user is gone: merged into the user of its e-mail, or a user of its own
    without a usable password (they set one through password reset)."""
    report = planner.report
    key = rules.email_key(row["email"] or "")
    if (known := planner.known_id("students", row["id"])) is not None:
        planner.person[row["id"]] = known
        report.row("students", "skipped", "already_imported")
        return
    owner: Ref | None = None
    if key in groups and (first := groups[key][0])["id"] in planner.person:
        owner = planner.person[first["id"]]
    elif key and key in planner.known.users:
        owner = planner.known.users[key].id
    elif key in planner.orphan_users:
        owner = planner.orphan_users[key]
    if owner is not None:
        planner.person[row["id"]] = owner
        report.row("students", "merged", "same_email")
        report.decide("profiles_merged_into_users", planner.user_institution.get(owner, "unknown"))
        planner.link("students", row["id"], "users", owner)
        return
    if not key:
        report.row("students", "skipped", "no_email")
        return
    institution, rule = _institution(planner, [row], by_courses, domains)
    if institution is None:
        report.row("students", "skipped", "no_institution")
        return
    if rule:
        report.decide(rule, institution)
    ref = row["id"]
    name = (row["name"] or "").strip() or key.partition("@")[0]
    planner.add("users", {
        "key": ref, "institution_id": institution, "email": row["email"].strip()[:320],
        "email_key": key[:320], "password_hash": rules.NO_PASSWORD, "full_name": name[:200],
        "role": Role.STUDENT, "is_platform_admin": False, "created_at": row["created_at"],
    })  # fmt: skip
    planner.add(
        "student_profiles",
        {"user_id": ref, "bio": row["bio"] or "", "created_at": row["created_at"]},
    )
    report.create("users", institution)
    report.row("students", "imported")
    report.decide("profiles_became_users", institution)
    planner.person[ref] = ref
    planner.orphan_users[key] = ref
    planner.user_institution[ref] = institution
    planner.user_name[ref] = name[:200]
    planner.new_students.append(ref)
    planner.link("students", ref, "users", ref)
