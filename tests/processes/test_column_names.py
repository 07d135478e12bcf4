"""A column's name never depends on its block's size, and each column has one name."""

from __future__ import annotations

import pytest

import synthbio_ppl as sb
from synthbio_ppl.processes.block import is_index


def _spec(n_noise: int) -> dict:
    return {
        "seed": 1,
        "classes": [{"name": "a", "n": 10}, {"name": "b", "n": 10}],
        "informative": [{"name": "inf", "n": 3, "effect_size": 1.0}],
        "noise": [{"name": "noise", "n": n_noise}],
        "clusters": [{"name": "clu", "n": 12, "correlation": 0.5}],
    }


@pytest.mark.parametrize("n_noise", [11, 101, 1001])
def test_growing_a_block_keeps_the_names_of_its_first_columns(n_noise: int) -> None:
    small = sb.generate(_spec(10)).X.columns.tolist()
    grown = sb.generate(_spec(n_noise)).X.columns.tolist()
    assert [c for c in small if c in grown] == small
    assert "noise_9" in small and f"noise_{n_noise - 1}" in grown
    assert "clu_proxy11" in grown


@pytest.mark.parametrize("name", ["noise_07", "noise_٣", "noise_10", "noise_-1", "clu_proxy01"])
def test_another_spelling_of_a_column_is_not_a_column(name: str) -> None:
    with pytest.raises(sb.SpecError) as error:
        sb.generate(_spec(10), do={name: 0.0})
    assert error.value.value == name


def test_the_one_spelling_of_a_column_is_one() -> None:
    data = sb.generate(_spec(10), do={"noise_7": 0.0, "clu_proxy1": 1.0})
    assert (data.X["noise_7"] == 0).all() and (data.X["clu_proxy1"] == 1).all()


def test_is_index() -> None:
    assert [is_index(t) for t in ("0", "7", "10", "00", "07", "٧", "", "1_0")] == [
        True, True, True, False, False, False, False, False,
    ]  # fmt: skip


def test_a_padded_name_is_refused_with_its_one_spelling() -> None:
    spec = _spec(12) | {"batches": {"n": 2, "affects": ["noise_07"]}}
    with pytest.raises(sb.SpecError, match=r"^batches.affects\[0\]: .*not zero-padded: noise_7$"):
        sb.generate(spec)
    with pytest.raises(sb.SpecError, match=r"^do.clu_proxy01: .*not zero-padded: clu_proxy1$"):
        sb.generate(_spec(12), do={"clu_proxy01": 0.0})
    with pytest.raises(sb.SpecError) as error:  # no such column, padded or not: no hint
        sb.generate(_spec(12), do={"noise_070": 0.0})
    assert "padded" not in str(error.value)


@pytest.mark.parametrize(
    ("blocks", "path", "name"),
    [
        ({"noise": [{"name": "a", "n": 20}, {"name": "a_1", "n": 3}]}, "noise[1].name", "a_1"),
        ({"clusters": [{"name": "c", "n": 12, "correlation": 0.3},
                       {"name": "c_proxy1", "n": 3, "correlation": 0.3}]},
         "clusters[1].name", "c_proxy1"),
        ({"noise": [{"name": "nz", "n": 12}],
          "structure": {"name": "sc", "n": 40, "factors": {"nz_3": {"mean": 0.0, "sd": 1.0}},
                        "biomarkers": {"B": {"baseline": 0.0, "noise": 1.0,
                                             "loadings": {"nz_3": 1.0}}}}},
         "structure.factors.nz_3", "nz_3"),
    ],
)  # fmt: skip
def test_a_name_that_is_also_another_blocks_column_is_refused(
    blocks: dict, path: str, name: str
) -> None:
    """Unpadded, block ``a``'s column 1 is ``a_1``: a block, factor or biomarker of that name
    would make ``affects: [a_1]`` and ``do`` mean two things at once."""
    spec = {"seed": 1, "classes": [{"name": "a0", "n": 20}, {"name": "b0", "n": 20}], **blocks}
    with pytest.raises(sb.SpecError) as error:
        sb.validate_spec(spec)
    assert (error.value.path, error.value.value) == (path, name)
    assert "is a column of block" in str(error.value)


def test_affects_a_kind_the_spec_lacks_is_refused() -> None:
    spec = _spec(3) | {"batches": {"n": 2, "affects": "pseudo"}}
    with pytest.raises(sb.SpecError, match=r"^batches.affects: .*no such block; it has: all, "):
        sb.validate_spec(spec)


def test_an_unknown_name_in_affects_lists_the_blocks() -> None:
    spec = _spec(3) | {"batches": {"n": 2, "affects": ["nosie"]}}
    with pytest.raises(sb.SpecError) as error:
        sb.validate_spec(spec)
    assert "must name a block (inf, clu, noise) or one of their columns" in str(error.value)


def test_a_folder_with_padded_names_says_to_generate_it_again() -> None:
    from synthbio_ppl.data.dataset import _differ

    assert "generate it again" in _differ(["nz_0", "nz_01"], ["nz_0", "nz_1"])
    assert "generate it again" not in _differ(["nz_0", "nz_x"], ["nz_0", "nz_1"])
