"""The OpenAPI schema tells the truth: schemathesis calls every /api/v1 operation with data it
derives from the schema (fitting it and not), as an admin and as a resident, and fails on any 5xx,
any status the operation does not document, and any body or header that breaks the schema.

A fixed seed and a bounded number of examples per operation keep it repeatable and under a minute."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
import schemathesis.specs.openapi.converter
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import login

EXAMPLES = int(os.environ.get("JINLIN_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


async def test_every_api_operation_keeps_to_its_schema(client, factory, live_server, monkeypatch):
    # Before it reads a schema, schemathesis writes a pattern's length bounds into its open
    # quantifiers (fields.Filled's `^[^\\x00]*[^\\x00\\s][^\\x00]*$`, at most 10,000 long, becomes
    # `^[^\\x00]{0,9999}[^\\x00\\s][^\\x00]{0,9999}$`), and reading that pattern (its canonical form
    # and whether anything satisfies it) cost about 0.2 CPU-s a schema: 16 of the 22 CPU-s the cases'
    # generation took; the pattern as written costs nearly nothing. Its string strategies write the
    # bounds into the pattern again when they draw, so without the rewrite the positive cases came
    # out the same (all 492, with this seed), and the negative ones differ only in what was drawn
    # for 62 of 488 (other data, as far from the schema).
    monkeypatch.setattr(schemathesis.specs.openapi.converter, "update_pattern_in_schema", lambda schema: None)
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant))
    # The served app (`jinlin serve`, two workers), as clients meet it: each worker keeps its own
    # event loop, its pools and its change feed, which an app driven from the test's threads would not.
    schema = schemathesis.openapi.from_url(f"{live_server.url}/schema/openapi.json")
    # The API ignores query parameters it does not know, as the web does (the member card's image
    # is fetched with a cache-busting `?ts=`), so a request with an extra one is not invalid data.
    schema.config.generation.update(allow_extra_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.path.startswith("/api/v1/")]
    assert len(operations) >= 20

    failures: list[str] = []
    for operation in operations:
        modes = [schemathesis.GenerationMode.POSITIVE]
        if operation.body or any(True for _ in operation.iter_parameters()):
            modes.append(schemathesis.GenerationMode.NEGATIVE)  # something to break
        for mode in modes:
            failure = _fuzz(operation, mode, [admin, resident], tenant.community_id)
            if failure:
                failures.append(failure)
    assert not failures, "\n\n".join(failures)


def _fuzz(operation: Any, mode: Any, people: list[Any], community_id: int) -> str | None:
    """Runs one operation's examples; the first failure (shrunk by hypothesis) as text, or None."""
    found: list[str] = []

    # Half the cases aim at the tenant's own community, so that they get past the membership
    # check and reach the validation and the services behind it.
    @given(case=operation.as_strategy(generation_mode=mode), who=st.sampled_from(people), ours=st.booleans())
    @seed(20261130)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        # No shrinking: a failure is reported as found, and a run stays bounded in time.
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any, who: Any, ours: bool) -> None:
        if ours and "community_id" in (case.path_parameters or {}):
            case.path_parameters["community_id"] = community_id
        try:
            # A request that never answers fails here instead of holding up the whole run.
            case.call_and_validate(headers=who.headers, checks=CHECKS, timeout=20)
        except Exception as exc:
            found[:] = [f"{operation.label} [{mode}]: {str(exc)[:800]}"]
            raise

    try:
        run()
    except Exception as exc:  # noqa: BLE001 - reported by the caller with the others
        return found[0] if found else f"{operation.label} [{mode}]: {type(exc).__name__}: {str(exc)[:400]}"
    return None
