"""Station configuration: file format, line-accurate messages for broken files, command-line overrides."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wardwatch.app.config import (
    CONFIG_PATH_ENV,
    BedConfig,
    StationConfig,
    apply_overrides,
    default_config_path,
    defaults_text,
    load_config,
    parse_config,
    resolve_beds,
    resolve_data_dir,
    write_default_config,
)

FULL_FILE = """\
schema_version = 1

[station]
name = "ICU 3 central"
bed_count = 4
seed = 42

[display]
fps = 25

[simulator]
nibp_interval_s = 600

[storage]
data_dir = "/srv/wardwatch"

[[bed]]
label = "ICU 3-1"
source = "sim:stable"

[[bed]]
label = "ICU 3-2"
source = "replay:/data/mitdb/100"
"""


def write(tmp_path: Path, text: str, name: str = "wardwatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the only line containing `needle`, so tests do not hard-code line numbers."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, hits
    return hits[0]


def test_missing_file_gives_defaults_without_messages(tmp_path):
    loaded = load_config(tmp_path / "absent.toml")

    assert loaded.config == StationConfig()
    assert loaded.messages == ()
    assert loaded.path == tmp_path / "absent.toml"


def test_builtin_defaults_are_the_documented_ones():
    config = StationConfig()

    assert config.station_name == "WardWatch central"
    assert config.bed_count == 16
    assert config.display_fps == 30.0
    assert config.nibp_interval_s == 300.0
    assert config.seed == 0
    assert config.data_dir is None
    assert config.beds == tuple(BedConfig(f"Bed {i + 1}", None) for i in range(16))


def test_valid_file_sets_every_key(tmp_path):
    loaded = load_config(write(tmp_path, FULL_FILE))

    assert loaded.messages == ()
    assert loaded.config == StationConfig(
        station_name="ICU 3 central",
        bed_count=4,
        display_fps=25.0,
        beds=(
            BedConfig("ICU 3-1", "sim:stable"),
            BedConfig("ICU 3-2", "replay:/data/mitdb/100"),
            BedConfig("Bed 3", None),
            BedConfig("Bed 4", None),
        ),
        data_dir=Path("/srv/wardwatch"),
        nibp_interval_s=600.0,
        seed=42,
    )


def test_bed_entries_map_to_bed_config_in_ward_order_and_missing_keys_take_defaults(tmp_path):
    text = """\
[station]
bed_count = 3

[[bed]]
source = "sim:vt"

[[bed]]
label = "Window"

[[bed]]
label = "Door"
source = "sim:stable"
"""
    loaded = load_config(write(tmp_path, text))

    assert loaded.messages == ()
    assert loaded.config.beds == (
        BedConfig("Bed 1", "sim:vt"),
        BedConfig("Window", None),
        BedConfig("Door", "sim:stable"),
    )


def test_syntax_error_starts_on_defaults_naming_file_and_line(tmp_path):
    text = '[station]\nname = "ICU"\nbed_count = 4\n\n[display]\n# refresh\nfps = = 30\n'
    path = write(tmp_path, text)

    loaded = load_config(path)

    assert loaded.config == StationConfig()
    assert len(loaded.messages) == 1
    message = loaded.messages[0]
    assert message.startswith(f"Config file {path}, line 7: ")
    assert "starting on defaults" in message


def test_syntax_error_at_end_of_file_names_the_last_line(tmp_path):
    path = write(tmp_path, '[station]\nname = "ICU')

    (message,) = load_config(path).messages

    assert message.startswith(f"Config file {path}, line 2")
    assert "Unterminated string" in message


def test_out_of_range_fps_names_key_line_and_range_and_keeps_the_other_keys(tmp_path):
    text = FULL_FILE.replace("fps = 25", "fps = 500")
    path = write(tmp_path, text)

    loaded = load_config(path)

    (message,) = loaded.messages
    assert message.startswith(f"Config file {path}, line {line_of(text, 'fps = 500')}: display.fps = 500")
    assert "from 5 to 60" in message
    assert "using the default 30" in message
    assert loaded.config.display_fps == 30.0
    assert loaded.config.station_name == "ICU 3 central"
    assert loaded.config.bed_count == 4
    assert loaded.config.beds[1] == BedConfig("ICU 3-2", "replay:/data/mitdb/100")


@pytest.mark.parametrize(
    ("line", "key", "allowed"),
    [
        ('bed_count = "sixteen"', "station.bed_count", "from 1 to 64"),
        ("bed_count = 65", "station.bed_count", "from 1 to 64"),
        ("bed_count = true", "station.bed_count", "from 1 to 64"),
        ("bed_count = 4.0", "station.bed_count", "whole number"),
        ("seed = -1", "station.seed", "0 or more"),
        ('name = "  "', "station.name", "non-empty"),
    ],
)
def test_wrong_type_or_range_in_station_is_reported_and_that_key_defaults(tmp_path, line, key, allowed):
    text = f'[station]\nname = "ICU"\n{line}\n[display]\nfps = 20\n'
    if line.startswith("name"):
        text = text.replace('name = "ICU"\n', "")

    loaded = load_config(write(tmp_path, text))

    (message,) = loaded.messages
    assert f"line {line_of(text, line)}: {key} = " in message
    assert allowed in message
    assert loaded.config.display_fps == 20.0


def test_nan_fps_is_refused(tmp_path):
    loaded = load_config(write(tmp_path, "[display]\nfps = nan\n"))

    (message,) = loaded.messages
    assert "display.fps = nan" in message
    assert loaded.config.display_fps == 30.0


def test_line_is_found_for_dotted_keys_and_inline_tables(tmp_path):
    text = "schema_version = 1\nstation.bed_count = 0\ndisplay = { fps = 1 }\n"

    messages = load_config(write(tmp_path, text)).messages

    assert [m.split(": ", 1)[0].rsplit(", ", 1)[1] for m in messages] == ["line 2", "line 3"]


def test_key_inside_a_multiline_string_is_not_mistaken_for_the_real_one(tmp_path):
    text = '[station]\nname = """ICU\n[display]\nfps = 1\n"""\n\n[display]\nfps = 1\n'

    (message,) = load_config(write(tmp_path, text)).messages

    assert ", line 8: display.fps = 1 " in message


def test_unknown_key_is_reported_with_its_line_and_the_rest_is_read(tmp_path):
    text = "[display]\nfsp = 25\n\n[station]\nbed_count = 8\n\n[alarms]\nvolume = 3\n"
    path = write(tmp_path, text)

    loaded = load_config(path)

    assert loaded.messages == (
        f"Config file {path}, line 2: unknown key display.fsp is ignored; did you mean display.fps?",
        f"Config file {path}, line 7: unknown section [alarms] is ignored",
    )
    assert loaded.config.bed_count == 8


def test_unknown_key_in_a_bed_entry_is_reported(tmp_path):
    text = '[[bed]]\nlabel = "A"\ncolour = "red"\n'

    (message,) = load_config(write(tmp_path, text)).messages

    assert ", line 3: bed entry 1: unknown key colour is ignored" in message


def test_bad_bed_source_is_reported_and_left_to_the_station(tmp_path):
    text = '[[bed]]\nlabel = "A"\nsource = "stable"\n'

    loaded = load_config(write(tmp_path, text))

    (message,) = loaded.messages
    assert ', line 3: bed entry 1: source = "stable"' in message
    assert "kind:argument" in message
    assert loaded.config.beds[0] == BedConfig("A", None)


def test_bed_entries_beyond_bed_count_are_ignored_with_a_message(tmp_path):
    text = '[station]\nbed_count = 2\n[[bed]]\nlabel = "A"\n[[bed]]\nlabel = "B"\n[[bed]]\nlabel = "C"\n'

    loaded = load_config(write(tmp_path, text))

    (message,) = loaded.messages
    assert ", line 7: 3 [[bed]] entries but station.bed_count is 2; entry 3 is ignored" in message
    assert loaded.config.beds == (BedConfig("A"), BedConfig("B"))


def test_duplicate_bed_labels_are_reported(tmp_path):
    text = '[[bed]]\nlabel = "A"\n[[bed]]\nlabel = "a"\n'

    (message,) = load_config(write(tmp_path, text)).messages

    assert ', line 4: bed 2 has the same label "a" as bed 1' in message


def test_newer_schema_version_is_reported_and_known_keys_still_read(tmp_path):
    text = "schema_version = 2\n[display]\nfps = 20\n"

    loaded = load_config(write(tmp_path, text))

    (message,) = loaded.messages
    assert ", line 1: schema_version = 2 is from a newer WardWatch" in message
    assert loaded.config.display_fps == 20.0


def test_non_utf8_file_starts_on_defaults_naming_the_line(tmp_path):
    path = tmp_path / "wardwatch.toml"
    path.write_bytes(b'[station]\nname = "Station \xe9"\n')

    loaded = load_config(path)

    assert loaded.config == StationConfig()
    (message,) = loaded.messages
    assert message.startswith(f"Config file {path}, line 2: not UTF-8")
    assert "starting on defaults" in message


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "wardwatch.toml"
    path.write_bytes('\ufeff[station]\nname = "Station é"\n'.encode())

    loaded = load_config(path)

    assert loaded.messages == ()
    assert loaded.config.station_name == "Station é"


def test_directory_instead_of_file_starts_on_defaults_with_a_message(tmp_path):
    loaded = load_config(tmp_path)

    assert loaded.config == StationConfig()
    assert loaded.messages == (f"Config file {tmp_path} is a directory, not a file — starting on defaults",)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions, not as root")
def test_unreadable_file_starts_on_defaults_with_a_message(tmp_path):
    path = write(tmp_path, "[display]\nfps = 20\n")
    path.chmod(0)

    loaded = load_config(path)

    assert loaded.config == StationConfig()
    (message,) = loaded.messages
    assert message.startswith(f"Cannot read config file {path}: ")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]{}=\"'#.,\n abcdefpstionlbd_0123456789-+:")), max_size=200))
def test_parsing_arbitrary_text_never_raises(text):
    loaded = parse_config(text, Path("/etc/wardwatch.toml"))

    assert isinstance(loaded.config, StationConfig)
    assert all(isinstance(m, str) for m in loaded.messages)


def test_shipped_defaults_parse_to_the_builtin_defaults():
    text = defaults_text()

    assert tomllib.loads(text)["schema_version"] == 1
    assert parse_config(text, Path("defaults.toml")) == parse_config("", Path("defaults.toml"))
    assert parse_config(text, Path("defaults.toml")).config == StationConfig()


def test_shipped_defaults_bed_example_is_valid_when_uncommented():
    example_start = defaults_text().index("# [[bed]]")
    example = "\n".join(line.removeprefix("# ") for line in defaults_text()[example_start:].splitlines())

    loaded = parse_config(example, Path("example.toml"))

    assert loaded.messages == ()
    assert loaded.config.beds[:2] == (
        BedConfig("Bed 1", "sim:stable"),
        BedConfig("Bed 2", "replay:/data/mitdb/100"),
    )


def test_overrides_win_over_file_values(tmp_path):
    config = load_config(write(tmp_path, FULL_FILE)).config

    overridden = apply_overrides(
        config,
        station_name="Night shift",
        bed_count=8,
        display_fps=60,
        data_dir=tmp_path / "data",
        seed=7,
    )

    assert overridden.station_name == "Night shift"
    assert overridden.bed_count == 8
    assert overridden.display_fps == 60.0
    assert overridden.data_dir == tmp_path / "data"
    assert overridden.seed == 7
    assert overridden.nibp_interval_s == 600.0  # not a flag, so the file's value stays


def test_overrides_not_given_keep_the_file_values(tmp_path):
    config = load_config(write(tmp_path, FULL_FILE)).config

    assert apply_overrides(config) == config


def test_bed_count_override_keeps_configured_beds_and_pads_or_cuts(tmp_path):
    config = load_config(write(tmp_path, FULL_FILE)).config

    grown = apply_overrides(config, bed_count=6)
    shrunk = apply_overrides(config, bed_count=1)

    assert grown.beds[:2] == config.beds[:2]
    assert grown.beds[4:] == (BedConfig("Bed 5"), BedConfig("Bed 6"))
    assert shrunk.beds == (BedConfig("ICU 3-1", "sim:stable"),)


@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [
        ("bed_count", 0, "from 1 to 64"),
        ("bed_count", 65, "from 1 to 64"),
        ("display_fps", 500.0, "from 5 to 60"),
        ("display_fps", 4.9, "from 5 to 60"),
        ("seed", -3, "0 or more"),
        ("station_name", "", "non-empty"),
    ],
)
def test_bad_override_raises_value_error_stating_what_is_allowed(flag, value, allowed):
    with pytest.raises(ValueError, match=allowed):
        apply_overrides(StationConfig(), **{flag: value})


def test_relative_data_dir_in_file_is_relative_to_the_file(tmp_path):
    path = write(tmp_path, '[storage]\ndata_dir = "records"\n')

    assert load_config(path).config.data_dir == tmp_path / "records"


def test_resolve_data_dir_uses_the_platform_user_data_dir_unless_configured(tmp_path):
    assert resolve_data_dir(StationConfig()) == Path(platformdirs.user_data_dir("wardwatch"))
    assert resolve_data_dir(StationConfig(data_dir=tmp_path)) == tmp_path


def test_resolve_beds_fills_only_beds_without_a_source():
    config = StationConfig(bed_count=3, beds=(BedConfig("A"), BedConfig("B", "replay:/r/100")))

    beds = resolve_beds(config, lambda n: [f"sim:mix{i}" for i in range(n)])

    assert beds == (
        BedConfig("A", "sim:mix0"),
        BedConfig("B", "replay:/r/100"),
        BedConfig("Bed 3", "sim:mix2"),
    )


def test_config_path_env_var_overrides_the_user_config_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(CONFIG_PATH_ENV, str(tmp_path / "site.toml"))

    assert default_config_path() == tmp_path / "site.toml"


def test_default_config_path_is_in_the_user_config_dir(monkeypatch):
    monkeypatch.delenv(CONFIG_PATH_ENV, raising=False)

    assert default_config_path() == Path(platformdirs.user_config_dir("wardwatch")) / "wardwatch.toml"


def test_load_config_without_path_reads_the_default_path(monkeypatch, tmp_path):
    path = write(tmp_path, "[display]\nfps = 12\n")
    monkeypatch.setenv(CONFIG_PATH_ENV, str(path))

    loaded = load_config(None)

    assert loaded.path == path
    assert loaded.config.display_fps == 12.0


def test_write_default_config_copies_the_defaults_and_never_overwrites(tmp_path):
    path = tmp_path / "new" / "dir" / "wardwatch.toml"

    write_default_config(path)
    assert path.read_text(encoding="utf-8") == defaults_text()

    path.write_text("[display]\nfps = 12\n", encoding="utf-8")
    write_default_config(path)
    assert path.read_text(encoding="utf-8") == "[display]\nfps = 12\n"


def test_station_config_refuses_out_of_range_values_when_built_directly():
    with pytest.raises(ValueError, match="display_fps"):
        StationConfig(display_fps=0.5)
    with pytest.raises(ValueError, match="kind:argument"):
        BedConfig("Bed 1", "stable")


def test_read_error_starts_on_defaults_with_the_reason(monkeypatch, tmp_path):
    path = write(tmp_path, "[display]\nfps = 20\n")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)

    loaded = load_config(path)

    assert loaded.config == StationConfig()
    assert loaded.messages == (f"Cannot read config file {path}: Permission denied — starting on defaults",)
