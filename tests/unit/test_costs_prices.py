"""The bundled price table and its overrides: what the waste finder's estimates rest on."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.costs.prices import HOURS_PER_MONTH, PriceTable, bundled_path, split_type


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    return str(path)


def test_the_bundled_table_is_dated_labelled_as_estimates_and_shipped_with_the_config_package(
        table: PriceTable) -> None:
    assert bundled_path().is_file()
    assert "prices/*.yaml" in (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert table.date == "2026-11-01"
    assert table.note == "prices: bundled table of 2026-11-01, estimates"
    assert (table.currency, table.hours_per_month, HOURS_PER_MONTH) == ("USD", 730, 730)
    assert "Estimates" in table.source


def test_look_ups_in_the_base_region(table: PriceTable) -> None:
    assert table.ec2_hourly("us-east-1", "m5.large") == 0.096
    assert table.ec2_hourly("us-east-1", "t3.micro") == 0.0104
    assert table.ec2_hourly("us-east-1", "x99.large") is None
    assert table.rds_hourly("us-east-1", "db.m5.large", "postgres") == 0.178
    assert table.rds_hourly("us-east-1", "db.m5.large", "mysql") == 0.171
    assert table.rds_hourly("us-east-1", "db.m5.large", "postgres", multi_az=True) == 0.356
    assert table.rds_hourly("us-east-1", "db.m5.large", "oracle-ee") is None
    assert table.rds_storage_gb_month("us-east-1", "gp2", multi_az=True) == 0.23
    assert {t: table.ebs_gb_month("us-east-1", t) for t in ("gp2", "gp3", "io1", "io2", "st1", "sc1",
                                                            "standard")} == {
        "gp2": 0.1, "gp3": 0.08, "io1": 0.125, "io2": 0.125, "st1": 0.045, "sc1": 0.015, "standard": 0.05}
    assert table.ebs_gb_month("us-east-1", "gp9") is None
    assert table.snapshot_gb_month("us-east-1") == 0.05
    assert table.eip_hourly("us-east-1") == 0.005
    assert table.lb_hourly("us-east-1", "application") == table.lb_hourly("us-east-1", "network") == 0.0225
    assert table.lb_hourly("us-east-1", "classic") == 0.025
    assert table.lb_hourly("us-east-1", "teleport") is None
    assert table.monthly(0.005) == pytest.approx(3.65)


def test_provisioned_iops_and_throughput_beyond_what_the_type_includes(table: PriceTable) -> None:
    assert table.ebs_volume_month("us-east-1", "io1", 100, iops=1000) == pytest.approx(12.5 + 65.0)
    assert table.ebs_volume_month("us-east-1", "gp3", 100, iops=3000, throughput=125) == pytest.approx(8.0)
    assert table.ebs_volume_month("us-east-1", "gp3", 100, iops=5000, throughput=250) == pytest.approx(
        8.0 + 2000 * 0.005 + 125 * 0.04)
    assert table.ebs_volume_month("us-east-1", "gp2", 100, iops=300) == pytest.approx(10.0)
    assert table.ebs_volume_month("us-east-1", "gp9", 100) is None


def test_a_region_factor_scales_every_price(table: PriceTable) -> None:
    assert table.knows_region("eu-west-1") and table.region_note("eu-west-1") == ""
    factor = table.factor("eu-west-1")
    assert 1.05 < factor < 1.2
    assert table.ec2_hourly("eu-west-1", "m5.large") == pytest.approx(0.096 * factor)
    assert table.ebs_gb_month("eu-west-1", "gp3") == pytest.approx(0.08 * factor)
    assert table.rds_hourly("eu-west-1", "db.t3.micro", "mysql") == pytest.approx(0.017 * factor)
    assert table.snapshot_gb_month("eu-west-1") == pytest.approx(0.05 * factor)
    assert table.eip_hourly("eu-west-1") == pytest.approx(0.005 * factor)
    assert table.factor("sa-east-1") > table.factor("ap-southeast-1") > table.factor("eu-central-1") > 1.0
    assert table.factor("us-east-2") == table.factor("us-west-2") == table.factor("us-east-1") == 1.0


def test_a_region_missing_from_the_table_is_priced_as_the_base_region_and_says_so(table: PriceTable) -> None:
    assert not table.knows_region("xx-moon-1")
    assert table.ec2_hourly("xx-moon-1", "m5.large") == 0.096
    assert table.region_note("xx-moon-1") == "region xx-moon-1 is not in the price table: priced as us-east-1"


def test_an_override_is_merged_over_the_bundled_table(tmp_path: Path) -> None:
    path = write(tmp_path, """
ec2:
  m5.large: 0.08
  x9.large: 1.5
rds:
  postgres:
    db.m5.large: 0.15
  aurora-postgresql:
    db.r6g.large: 0.26
region_factors:
  xx-moon-1: 2.0
eip_idle_hourly: 0.004
date: 2026-12-01
""")
    table = PriceTable.load(path)
    assert table.ec2_hourly("us-east-1", "m5.large") == 0.08
    assert table.ec2_hourly("us-east-1", "x9.large") == 1.5
    assert table.ec2_hourly("us-east-1", "m5.xlarge") == 0.192  # untouched
    assert table.rds_hourly("us-east-1", "db.m5.large", "postgres") == 0.15
    assert table.rds_hourly("us-east-1", "db.m5.xlarge", "postgres") == 0.356
    assert table.rds_hourly("us-east-1", "db.r6g.large", "aurora-postgresql") == 0.26
    assert table.rds_hourly("us-east-1", "db.m5.large", "mysql", multi_az=True) == 0.342
    assert table.ec2_hourly("xx-moon-1", "m5.large") == 0.16 and table.region_note("xx-moon-1") == ""
    assert table.factor("eu-west-1") == PriceTable.load().factor("eu-west-1")
    assert table.eip_hourly("us-east-1") == 0.004
    assert table.date == "2026-12-01"
    assert table.note == f"prices: bundled table of 2026-11-01 with overrides from {path}, estimates"
    assert table.smaller("x9.large") is None and split_type("x9.large") == ("x9", "large")


def test_an_empty_override_changes_nothing(tmp_path: Path) -> None:
    table = PriceTable.load(write(tmp_path, "# nothing yet\n"))
    assert table.ec2 == PriceTable.load().ec2


@pytest.mark.parametrize(("text", "key", "problem"), [
    ("ec2:\n  m5.large: cheap\n", "ec2.m5.large", "must be a number, got 'cheap'"),
    ("ec2:\n  m5.large: -1\n", "ec2.m5.large", "must be 0 or more"),
    ("ec2:\n  m5large: 1\n", "ec2.m5large", "must be an instance type such as m5.large"),
    ("ec2: 0.1\n", "ec2", "must be a mapping"),
    ("region_factors:\n  eu-west-1: 0\n", "region_factors.eu-west-1", "must be greater than 0"),
    ("rds:\n  postgres:\n    db.m5.large: true\n", "rds.postgres.db.m5.large", "must be a number, got True"),
    ("rds:\n  multi_az_factor: 0\n", "rds.multi_az_factor", "must be greater than 0"),
    ("ebs_iops:\n  gp3: {price: 0.005, free: 3000}\n", "ebs_iops.gp3", "unknown key 'free'"),
    ("previous_generation:\n  m4: m5.large\n", "previous_generation.m4", "must name an instance family"),
    ("size_ladder: small\n", "size_ladder", "must be a list of sizes"),
    ("ec2s:\n  m5.large: 0.1\n", "ec2s", "unknown key (known: date, source"),
])
def test_a_bad_override_is_one_line_naming_the_file_and_the_key(tmp_path: Path, text: str, key: str,
                                                               problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as caught:
        PriceTable.load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"price table {path}: {key}: ")
    assert problem in message


@pytest.mark.parametrize(("text", "problem"), [
    ("ec2:\n  m5.large: 0.1\n  bad: [unclosed\n", "not valid YAML at line 4"),
    ("- m5.large\n", "must be a mapping of sections"),
])
def test_an_override_that_is_not_a_table_is_one_line(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=problem) as caught:
        PriceTable.load(path)
    assert "\n" not in str(caught.value) and path in str(caught.value)


def test_a_missing_override_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ValueError) as caught:
        PriceTable.load(str(missing))
    assert str(caught.value) == f"price table {missing}: cannot read it (No such file or directory)"


def test_one_size_down_is_the_next_smaller_size_the_family_prices(table: PriceTable) -> None:
    assert table.smaller("m5.2xlarge") == "m5.xlarge"
    assert table.smaller("m5.xlarge") == "m5.large"
    assert table.smaller("m5.large") is None  # m5 has no medium
    assert table.smaller("c5.9xlarge") == "c5.4xlarge"  # no c5.8xlarge or 6xlarge
    assert table.smaller("t3.micro") == "t3.nano"
    assert table.smaller("t3.nano") is None
    assert table.smaller("m6g.large") == "m6g.medium"
    assert table.smaller("m5.huge") is None and table.smaller("nonsense") is None
    ladder = table.size_ladder
    assert ladder[:8] == ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "3xlarge")
    assert ladder.index("4xlarge") < ladder.index("8xlarge") < ladder.index("16xlarge")


def test_previous_generation_families_map_to_current_ones_of_the_same_size(table: PriceTable) -> None:
    expected = {"t2.micro": "t3.micro", "t1.micro": "t3.micro", "m4.xlarge": "m5.xlarge",
                "m3.large": "m5.large", "m1.large": "m5.large", "m2.xlarge": "r5.xlarge",
                "c4.2xlarge": "c5.2xlarge", "c3.large": "c5.large", "c1.xlarge": "c5.xlarge",
                "r4.large": "r5.large", "r3.2xlarge": "r5.2xlarge", "i2.xlarge": "i3.xlarge"}
    assert {old: table.current_generation(old) for old in expected} == expected
    for current in ("m5.large", "t3.micro", "c6i.large", "m7i.xlarge", "r6i.large", "nonsense"):
        assert table.current_generation(current) is None
    # Every mapped family is priced, so the finder can say what moving saves.
    assert set(table.previous_generation.values()) <= set(table.families())
    assert set(table.previous_generation) <= set(table.families())


def test_current_generation_is_not_dearer_for_the_same_size_except_m2_to_r5(table: PriceTable) -> None:
    """m2 had half an r5's memory: moving up costs a little more (the finder then says so)."""
    dearer = set()
    for name, price in table.ec2.items():
        current = table.current_generation(name)
        if current and current in table.ec2 and table.ec2[current] > price:
            dearer.add(name)
    assert dearer == {"m2.xlarge", "m2.2xlarge", "m2.4xlarge"}
