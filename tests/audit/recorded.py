"""The audit as an admin reads it: start a run, wait for it to finish, read its report."""

import asyncio

import httpx

CONSISTENCY = "/api/v1/admin/consistency"
LATEST = "/api/v1/admin/consistency/runs/latest"


async def audited(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    """GET /api/v1/admin/consistency once a run started now has finished."""
    started = await client.post(f"{CONSISTENCY}/runs", headers=headers)
    assert started.status_code == 202, started.text
    for _ in range(1200):
        latest = await client.get(LATEST, headers=headers)
        if latest.json()["status"] != "running":
            return await client.get(CONSISTENCY, headers=headers)
        await asyncio.sleep(0.05)
    raise AssertionError("the audit run did not finish")
