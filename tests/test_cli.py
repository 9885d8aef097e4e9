"""The `wardwatch` command line, run as a user would run it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WARDWATCH = [sys.executable, "-m", "wardwatch.app.cli"]


def run(
    *args: str, timeout: float = 120, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env_extra or {})}
    return subprocess.run(
        [*WARDWATCH, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def test_headless_run_prints_one_summary_line_per_ten_seconds_of_station_time(tmp_path: Path):
    result = run(
        "run", "--headless", "--duration", "30", "--speed", "10", "--beds", "4", "--data-dir", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("t=")]
    assert len(lines) == 3
    assert "beds=4" in lines[-1] and "connected=4" in lines[-1]
    samples = int(lines[-1].split("samples=")[1].split()[0])
    # 4 beds x (250 + 125 + 62.5) samples/s x ~30 s of station time
    assert samples > 4 * 437.5 * 25


def test_gui_starts_offscreen_paints_and_quits(tmp_path: Path):
    result = run("--beds", "4", "--quit-after", "3", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_bench_hub_prints_one_json_object_with_throughput():
    result = run("bench", "hub", "--seconds", "0.5", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["samples_pushed_per_s"] > 0 and figures["samples_read_per_s"] > 0


def test_bench_display_prints_the_documented_keys(tmp_path: Path):
    result = run(
        "bench",
        "display",
        "--beds",
        "4",
        "--seconds",
        "1",
        "--warmup",
        "1",
        "--json",
        "--data-dir",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for key in (
        "beds",
        "seconds",
        "target_fps",
        "achieved_fps",
        "frame_ms_p50",
        "frame_ms_p99",
        "latency_ms_p99",
        "cpu_percent",
        "rss_mb_start",
        "rss_mb_end",
    ):
        assert key in figures, key
    assert figures["beds"] == 4 and figures["achieved_fps"] > 0


def test_replay_of_a_missing_folder_is_one_clear_line_not_a_traceback(tmp_path: Path):
    result = run("run", "--headless", "--duration", "1", "--replay", str(tmp_path / "nowhere"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "nowhere" in result.stderr


def test_broken_config_file_is_named_with_its_line_and_the_station_runs_on_defaults(tmp_path: Path):
    config = tmp_path / "wardwatch.toml"
    config.write_text('[station]\nname = "Ward 7"\nbed_count = = 3\n', encoding="utf-8")
    result = run("run", "--headless", "--duration", "10", "--speed", "10", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert str(config) in result.stderr and "line 3" in result.stderr
    assert "beds=16" in result.stdout


def test_bad_flag_value_is_refused_with_a_message():
    result = run("run", "--headless", "--duration", "1", "--beds", "500")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "64" in result.stderr


@pytest.mark.parametrize("args", [["--info"], ["info"]])
def test_info_names_versions_paths_and_the_notice(args: list[str], tmp_path: Path):
    result = run(*args, "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "not a certified medical device" in result.stdout
    assert str(tmp_path) in result.stdout


def test_gui_without_a_display_says_so_instead_of_running_invisibly(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [*WARDWATCH, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "no display" in result.stderr and "--headless" in result.stderr
