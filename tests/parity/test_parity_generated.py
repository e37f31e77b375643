"""Property-based parity with GX: hypothesis draws expectation configs and records.

For every compiled type, each example draws one config per row-condition form (none, each
comparison operator, nullity, and, or, legacy string; types GX mishandles under a condition
get none, see ``strategies.UNCONDITIONED``), optional ``mostly`` and ``severity``, and a batch
of records (a few drawn value by value, the rest from the tricky pools with a drawn seed). It
then requires dqgate's verdict to equal GX's for every (expectation, record), from the
decoded record and from its JSON bytes. Schema-level types are drawn together, per record.

Where GX errors on a batch, the rows dqgate says error on are re-run alone, at most
``MAX_ALONE`` distinct ones per batch; the other such rows are left uncompared for the
expectations GX errored on (the session summary counts them).

The draws are reproducible: hypothesis runs with ``@seed(DQGATE_PARITY_SEED)``, no example
database and no shrinking (each GX call costs tens of milliseconds); a failure prints the seed,
the config, the record and both verdicts, and hypothesis prints the drawn configs and recipe.
"""

from __future__ import annotations

from typing import Final

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from dqgate.suites import supported_types

from .compare import compare_with_gx
from .oracle import GXOracle
from .pools import GEN_COLUMNS, GEN_TABLE_KEYS, PARITY_SEED
from .strategies import (
    FORMS,
    ROW_TYPES,
    TABLE_TYPES,
    expectation_configs,
    record_recipes,
    table_configs,
)

pytestmark = pytest.mark.parity

ROW_EXAMPLES: Final = 4
TABLE_EXAMPLES: Final = 6
MAX_ALONE: Final = 6
"""Distinct rows re-run alone per batch when GX errors (one GX call each)."""
RECORDS: Final = (700, 1050)
SLOW_RECORDS: Final = {"expect_column_values_to_match_json_schema": (150, 250)}
"""GX runs jsonschema.validate (schema check included) once per value: about 1 ms a row."""

_SETTINGS: Final = settings(
    deadline=None,
    database=None,
    derandomize=False,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=(HealthCheck.too_slow,),
)


def test_generators_cover_every_compiled_type() -> None:
    """Every type dqgate compiles has a config generator here, and no other type does."""
    assert sorted(ROW_TYPES + TABLE_TYPES) == sorted(supported_types())


@pytest.mark.parametrize("etype", ROW_TYPES)
@settings(_SETTINGS, max_examples=ROW_EXAMPLES)
@seed(PARITY_SEED)
@given(data=st.data())
def test_generated_row_verdicts_match_gx(
    etype: str, data: st.DataObject, gx_oracle: GXOracle
) -> None:
    """dqgate's verdict equals GX's for generated configs of one row-level type, every form."""
    cfgs = data.draw(expectation_configs(etype), label="configs")
    n_min, n_max = SLOW_RECORDS.get(etype, RECORDS)
    recipe = data.draw(record_recipes(table=False, n_min=n_min, n_max=n_max), label="records")
    records = recipe.build()
    run = compare_with_gx(
        gx_oracle,
        cfgs,
        records,
        list(GEN_COLUMNS),
        seed=PARITY_SEED,
        suite_name=f"generated-{etype}",
        check_bytes=True,
        max_alone=MAX_ALONE,
    )
    assert run.compared[etype] + run.uncompared == len(FORMS) * len(records)
    assert not run.mismatches, run.report()


@settings(_SETTINGS, max_examples=TABLE_EXAMPLES)
@seed(PARITY_SEED)
@given(data=st.data())
def test_generated_table_verdicts_match_gx(data: st.DataObject, gx_oracle: GXOracle) -> None:
    """dqgate's per-record schema verdicts equal GX's on 1-record batches, generated configs."""
    cfgs = data.draw(table_configs(per_type=3), label="configs")
    recipe = data.draw(record_recipes(table=True, n_min=300, n_max=500), label="records")
    records = recipe.build()
    run = compare_with_gx(
        gx_oracle,
        cfgs,
        records,
        list(GEN_TABLE_KEYS),
        seed=PARITY_SEED,
        suite_name="generated-table",
        check_bytes=True,
    )
    assert sum(run.compared.values()) == len(cfgs) * len(records)
    assert not run.mismatches, run.report()
