"""People planned: one user per e-mail, a profile for every student, orphaned profiles."""

from collections import Counter, defaultdict
from collections.abc import Sequence

from lectern.importing import rules
from lectern.importing.legacy_rows import Student, User
from lectern.importing.plan import Planner, Ref, _order
from lectern.models.enums import Role


def _institution(
    planner: Planner,
    rows: Sequence[User | Student],
    by_courses: dict[str, Counter[Ref]],
    domains: dict[str, set[Ref]],
) -> tuple[Ref | None, str | None]:
    """The institution a person goes to, and which rule decided it (None: their own)."""
    for row in rows:
        if (ref := planner.institution.get(getattr(row, "institution_id", None) or "")) is not None:
            return ref, None
    courses: Counter[Ref] = Counter()
    for row in rows:
        courses.update(by_courses.get(row.id, Counter()))
    if courses:
        return courses.most_common(1)[0][0], "institution_from_enrollments"
    domain = (rows[0].email or "").rpartition("@")[2].strip().lower()
    if len(candidates := domains.get(domain, set())) == 1:
        return next(iter(candidates)), "institution_from_email_domain"
    return None, None


def plan_people(planner: Planner) -> None:
    legacy, counted = planner.legacy, planner.tally.rows
    profiles: dict[str, list[Student]] = defaultdict(list)
    user_ids = {row.id for row in legacy["users"]}
    orphans: list[Student] = []
    for row in legacy["students"]:
        owner = row.user_id if row.user_id in user_ids else None
        owner = owner or (row.id if row.id in user_ids else None)
        if owner is None:
            orphans.append(row)
        else:
            profiles[owner].append(row)
    groups: dict[str, list[User]] = defaultdict(list)
    for row in legacy["users"]:
        if not (row.email or "").strip():
            counted["users", "skipped", "no_email"] += 1
            if skipped := profiles.pop(row.id, []):
                counted["students", "skipped", "user_skipped"] += len(skipped)
            continue
        groups[rules.email_key(row.email)].append(row)
    domains: dict[str, set[Ref]] = defaultdict(set)
    for row in legacy["users"]:
        if (ref := planner.institution.get(row.institution_id or "")) is not None:
            domains[(row.email or "").rpartition("@")[2].strip().lower()].add(ref)
    # Only people without an institution of their own are placed by their courses.
    placed_by_courses = {
        row.id
        for row in legacy["users"]
        if planner.institution.get(row.institution_id or "") is None
    } | {row.id for row in orphans}
    by_courses = planner.institutions_of_person(placed_by_courses)

    for key, rows in groups.items():
        if len(rows) > 1:
            rows.sort(key=_order)
        _user(planner, key, rows, by_courses, domains, profiles)
    for row in sorted(orphans, key=_order):
        _orphan(planner, row, by_courses, domains, groups)


def _user(
    planner: Planner,
    key: str,
    rows: list[User],
    by_courses: dict[str, Counter[Ref]],
    domains: dict[str, set[Ref]],
    profiles: dict[str, list[Student]],
) -> None:
    known = planner.known
    known_users, known_profiles = known.linked("users"), known.linked("students")
    counted, decided = planner.tally.rows, planner.tally.decisions
    person, links = planner.person, planner.plan.links
    ids = [k for r in rows if (k := known_users.get(r.id)) is not None]
    existing = known.users.get(key)
    ref: Ref
    new: str
    if ids:
        ref = ids[0]
        institution: Ref | None = existing.institution_id if existing else None
    elif existing is not None:
        ref, institution = existing.id, existing.institution_id
        decided["users_matched_existing", institution] += 1
    else:
        institution, rule = _institution(planner, rows, by_courses, domains)
        if institution is None:
            for row in rows:
                counted["users", "skipped", "no_institution"] += 1
                if skipped := profiles.pop(row.id, []):
                    counted["students", "skipped", "user_skipped"] += len(skipped)
            return
        if rule:
            decided[rule, institution] += 1
        ref = new = rows[0].id
        _new_user(planner, new, institution, rows, profiles)
    if institution is None:
        institution = planner.institution.get(rows[0].institution_id or "", "unknown")
    for row in rows:
        person[row.id] = ref
        if row.id in known_users:
            counted["users", "skipped", "already_imported"] += 1
        elif row.id == ref:
            counted["users", "imported", None] += 1
            links["users"].add(row.id, ref)
        else:
            counted["users", "merged", "same_email"] += 1
            decided["users_merged_by_email", institution] += 1
            links["users"].add(row.id, ref)
        for profile in profiles.pop(row.id, ()):
            person[profile.id] = ref
            if profile.id in known_profiles:
                counted["students", "skipped", "already_imported"] += 1
            elif profile.id in planner.profiles_taken_in:
                counted["students", "imported", None] += 1
                links["students"].add(profile.id, ref)
            else:
                counted["students", "merged", "same_user"] += 1
                links["students"].add(profile.id, ref)
    planner.user_institution[ref] = institution
    planner.user_name.setdefault(ref, known.user_names.get(ref, "") if isinstance(ref, int) else "")


def _new_user(
    planner: Planner,
    ref: str,
    institution: Ref,
    rows: list[User],
    profiles: dict[str, list[Student]],
) -> None:
    decided = planner.tally.decisions
    first = rows[0]
    role = rules.parse_role(first.role)
    if role is None:
        role = Role.STUDENT
        decided["roles_unknown_as_student", institution] += 1
    elif first.role != role.value:
        decided["roles_parsed", institution] += 1
    hashes = [h for r in rows if (h := rules.usable_password_hash(r.password_hash))]
    if not hashes:
        decided["users_without_usable_password", institution] += 1
    own = [p for r in rows for p in profiles.get(r.id, ())]
    named: list[User | Student] = [*rows, *own]
    name = next((n.strip() for r in named if (n := r.name) and n.strip()), "")
    name = name or first.email.strip().partition("@")[0]
    planner.add("users", {
        "key": ref, "institution_id": institution, "email": first.email.strip()[:320],
        "email_key": rules.email_key(first.email)[:320],
        "password_hash": hashes[0] if hashes else rules.NO_PASSWORD,
        "full_name": name[:200], "role": role, "is_platform_admin": False,
        "created_at": first.created_at,
    })  # fmt: skip
    planner.tally.created["users", institution] += 1
    if (first.status or "").strip().casefold() == "suspended":
        decided["suspended_users_imported_active", institution] += 1
    planner.user_name[ref] = name[:200]
    if own:
        planner.profiles_taken_in.add(own[0].id)
        planner.add(
            "student_profiles",
            {"user_id": ref, "bio": own[0].bio or "", "created_at": own[0].created_at},
        )
    elif role == Role.STUDENT:
        planner.add("student_profiles", {"user_id": ref, "bio": "", "created_at": first.created_at})
        decided["profiles_created", institution] += 1
    if role == Role.STUDENT:
        planner.new_students.append(ref)


def _orphan(
    planner: Planner,
    row: Student,
    by_courses: dict[str, Counter[Ref]],
    domains: dict[str, set[Ref]],
    groups: dict[str, list[User]],
) -> None:
    """A profile whose user is gone: merged into the user of its e-mail, or a user of its own
    without a usable password (they set one through password reset)."""
    counted, decided = planner.tally.rows, planner.tally.decisions
    key = rules.email_key(row.email or "")
    if (known := planner.known_id("students", row.id)) is not None:
        planner.person[row.id] = known
        counted["students", "skipped", "already_imported"] += 1
        return
    owner: Ref | None = None
    if key in groups and (first := groups[key][0]).id in planner.person:
        owner = planner.person[first.id]
    elif key and key in planner.known.users:
        owner = planner.known.users[key].id
    elif key in planner.orphan_users:
        owner = planner.orphan_users[key]
    if owner is not None:
        planner.person[row.id] = owner
        counted["students", "merged", "same_email"] += 1
        owners_institution = planner.user_institution.get(owner, "unknown")
        decided["profiles_merged_into_users", owners_institution] += 1
        planner.link("students", row.id, owner)
        return
    if not key:
        counted["students", "skipped", "no_email"] += 1
        return
    institution, rule = _institution(planner, [row], by_courses, domains)
    if institution is None:
        counted["students", "skipped", "no_institution"] += 1
        return
    if rule:
        decided[rule, institution] += 1
    ref = row.id
    name = (row.name or "").strip() or key.partition("@")[0]
    planner.add("users", {
        "key": ref, "institution_id": institution, "email": (row.email or "").strip()[:320],
        "email_key": key[:320], "password_hash": rules.NO_PASSWORD, "full_name": name[:200],
        "role": Role.STUDENT, "is_platform_admin": False, "created_at": row.created_at,
    })  # fmt: skip
    planner.add(
        "student_profiles",
        {"user_id": ref, "bio": row.bio or "", "created_at": row.created_at},
    )
    planner.tally.created["users", institution] += 1
    counted["students", "imported", None] += 1
    decided["profiles_became_users", institution] += 1
    planner.person[ref] = ref
    planner.orphan_users[key] = ref
    planner.user_institution[ref] = institution
    planner.user_name[ref] = name[:200]
    planner.new_students.append(ref)
    planner.link("students", ref, ref)
