"""Planning tells the writer which tables are final while it goes on: what it says must hold."""

import copy
from typing import Any

from lectern.importing.plan import LINKED, Known, Legacy, Plan
from lectern.importing.planning import plan_import
from lectern.models.base import utcnow
from tests.importing.conftest import SEEDS


def test_tables_said_final_are_not_changed_by_the_later_stages(samples: dict[int, Legacy]) -> None:
    told: list[tuple[str, ...]] = []
    snapshots: dict[str, Any] = {}

    def tables_final(plan: Plan, tables: tuple[str, ...]) -> None:
        told.append(tables)
        for table in tables:
            snapshots[table] = copy.deepcopy(plan.rows.get(table, []))
        for legacy, table in LINKED.items():
            if table in tables and legacy in plan.links:
                snapshots[legacy] = copy.deepcopy(plan.links[legacy])
        if "enrollments" in plan.keys:
            snapshots["enrollment keys"] = list(plan.keys["enrollments"])

    plan = plan_import(samples[SEEDS[0]], Known(), utcnow(), tables_final)

    assert told[0][0] == "institutions"
    assert {"users", "payments", "quiz_attempts", "qbank_tests"} <= {t for g in told for t in g}
    for name, snapshot in snapshots.items():
        if name == "enrollment keys":
            assert sorted(snapshot) == sorted(row["key"] for row in plan.rows["enrollments"])
        elif name in LINKED:
            assert plan.links[name] == snapshot, name
        else:
            assert plan.rows.get(name, []) == snapshot, name
    assert plan.rows["quiz_attempts"]
    assert plan.rows["users"]
