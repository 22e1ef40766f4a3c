import pytest

from tests.factories import Person, World


def merge_path(into: Person | int) -> str:
    institution_id = into if isinstance(into, int) else into.institution_id
    return f"/api/v1/platform/institutions/{institution_id}/merge"


@pytest.fixture
async def platform(world: World) -> Person:
    """A platform admin, who merges institutions."""
    return await world.admin("Lectern Operations", platform_admin=True)
