"""The wire formats of hospital-wide sharing, without a broker: every JSON payload round-trips, and a
malformed, oversized or unknown-version payload is refused with one PayloadError that says why; the
CBOR waves codec keeps samples within half a step and gaps as gaps; topics and slugs; the connection
settings from the config, the command line and the environment."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import zlib
from pathlib import Path

import cbor2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wardwatch.app.config import StationConfig, parse_config
from wardwatch.app.hospital.payloads import (
    EVENT_MAX_BYTES,
    WAVES_MAX_BYTES,
    AckRequest,
    AckResult,
    AlarmEventInfo,
    AlarmState,
    BedAlarms,
    BedInfo,
    Condition,
    News2,
    Numerics,
    NumericValue,
    PatientInfo,
    PayloadError,
    Risk,
    StationStatus,
    Technical,
    WavesWant,
    decode,
    decode_as,
    encode,
)
from wardwatch.app.hospital.settings import (
    PASSWORD_ENV,
    SettingsError,
    ViewTarget,
    parse_url,
    parse_view,
    settings_from,
)
from wardwatch.app.hospital.topics import (
    Kind,
    Topic,
    TopicError,
    bed_topic,
    check_slug,
    parse_topic,
    request_filters,
    slugify,
    status_topic,
    ward_filter,
)
from wardwatch.app.hospital.waves_codec import (
    WaveBlock,
    WavesError,
    decode_waves,
    encode_waves,
    split_runs,
)

T = 1_780_000_000.25
ALARM = AlarmState(17, "spo2_low", "physiological", "high", "active", "SpO₂ 86 < 90", T, T - 15)
EXAMPLES = [
    BedInfo("ICU north", "bed03", "Bed 3", PatientInfo("ROE, Rita", "MRN1", 54, None), "sim", T),
    BedInfo("ICU north", "bed04", "Bed 4", None, None, T),
    Numerics(T, (NumericValue(147842, "HR", 72.0, "/min", T), NumericValue(150456, "SpO₂", 97.0, "%", T))),
    BedAlarms(
        "general/icu:18c2:7",
        T,
        AlarmEventInfo("raised", 17, "spo2_low", "high", "station", "SpO₂ 86 < 90", T),
        (ALARM,),
    ),
    BedAlarms("general/icu:18c2:8", T, None, ()),
    News2(T, 5, "medium", True, "rr 3; spo2 2"),
    News2(T, None, None, False, ""),
    Risk(T, 0.12, 0.3, False, ("HR rising 88→112 over 6 h",)),
    Risk(T, None, None, False, ()),
    Technical(T, "connected", (Condition("lead_off", "ECG leads off", T - 3),)),
    StationStatus("ICU north", "online", T, ("bed01", "bed02"), "0.1.0"),
    AckRequest("0b9c6a0e-7c1e-4c44-9b8e-2f4f3c1d2e10", 17, "spo2_low", "dr.smith", "clinician", "RRT", T),
    AckRequest("f3a1", 0, "*", "dr.smith", "clinician", "RRT", T),
    AckResult("f3a1", True, "acknowledged by dr.smith@RRT"),
    WavesWant("RRT", T + 20),
]


@pytest.mark.parametrize("payload", EXAMPLES, ids=lambda p: type(p).__name__)
def test_every_payload_kind_round_trips_with_its_version_and_kind(payload):
    data = encode(payload)
    doc = json.loads(data)
    assert doc["v"] == 1 and doc["kind"] == payload.KIND
    assert decode(data) == payload
    assert decode_as(data, type(payload)) == payload


def test_the_alarms_payload_reads_as_the_contract_writes_it():
    text = (
        '{"v":1,"kind":"alarms","id":"site/ward:18c2:1","t":1780000000.0,'
        '"event":{"action":"raised","alarm_id":17,"key":"spo2_low","priority":"high","user":"station",'
        '"detail":"x","time":1780000000.0},"active":[{"alarm_id":17,"key":"spo2_low",'
        '"category":"physiological","priority":"high","state":"active","message":"SpO₂ 86 < 90",'
        '"raised_at":1780000000.0,"condition_since":1779999990.0,"escalated_at":null,'
        '"acknowledged_by":null,"acknowledged_at":null,"reason":"","audible":true}],"added_later":[1]}'
    )
    payload = decode(text.encode())
    assert isinstance(payload, BedAlarms) and payload.active[0].alarm_id == 17  # extra keys ignored


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{nope", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"kind": "ack"}', "no version"),
        (b'{"v": true, "kind": "ack"}', "no version"),
        (b'{"v": 2, "kind": "ack"}', "version 2 is not known"),
        (b'{"v": 1, "kind": "gossip"}', "kind is missing or not known"),
        (b'{"v": 1, "kind": "waves_want", "viewer": "v"}', "missing field 'until'"),
        (
            b'{"v": 1, "kind": "waves_want", "viewer": "v", "until": "soon"}',
            "'until' must be a finite number",
        ),
        (b'{"v": 1, "kind": "waves_want", "viewer": "v", "until": NaN}', "NaN is not a number"),
        (b'{"v": 1, "kind": "waves_want", "viewer": "v", "until": 1e999}', "finite"),
        (b'{"v": 1, "kind": "ack_result", "request": "r", "ok": 1, "detail": ""}', "true or false"),
        (b'{"v": 1, "kind": "numerics", "t": 1780000000, "values": {}}', "must be a list"),
        (
            b'{"v": 1, "kind": "status", "station": "s", "state": "asleep", "t": 1780000000, "beds": [],'
            b' "version": ""}',
            "one of",
        ),
        (
            b'{"v":1,"kind":"ack","id":"x","alarm_id":0,"key":"spo2_low","user":"u","role":"r","viewer":"v","t":1780000000}',
            "alarm_id",
        ),
        (b"[" * 100_000, "over"),
        (b" " * (EVENT_MAX_BYTES + 1), "over"),
    ],
)
def test_a_bad_payload_is_refused_with_its_reason(data, reason):
    with pytest.raises(PayloadError, match=reason):
        decode(data)


def test_a_deeply_nested_payload_is_refused_not_crashed():
    with pytest.raises(PayloadError):
        decode(b'{"v":1,"kind":"info","patient":' + b"[" * 20_000 + b"]" * 20_000 + b"}")


def test_a_payload_of_another_kind_on_a_topic_is_refused():
    with pytest.raises(PayloadError, match="expected a ack payload"):
        decode_as(encode(WavesWant("v", T)), AckRequest)


def test_encoding_refuses_an_oversized_or_non_finite_payload():
    huge = Technical(T, None, tuple(Condition("lead_off", "x" * 2000, T) for _ in range(40)))
    with pytest.raises(PayloadError, match="over"):
        encode(huge)
    with pytest.raises(PayloadError):
        encode(Risk(T, math.nan, 0.3, False))


def test_a_patients_details_never_show_in_a_repr():
    assert "MRN1" not in repr(EXAMPLES[0]) and "Rita" not in repr(EXAMPLES[0])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise_anything_but_a_payload_error(data):
    for decoder in (decode, decode_waves):
        with contextlib.suppress(PayloadError):
            decoder(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            "info",
            "numerics",
            "alarms",
            "news2",
            "risk",
            "technical",
            "status",
            "ack",
            "ack_result",
            "waves_want",
        ]
    ),
    st.dictionaries(st.text(max_size=16), json_values, max_size=8),
)
def test_random_json_of_a_known_kind_never_raises_anything_but_a_payload_error(kind, body):
    data = json.dumps({**body, "v": 1, "kind": kind}).encode()
    with contextlib.suppress(PayloadError):
        decode(data)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-5.0, 5.0, width=32), min_size=1, max_size=600),
    st.floats(1.0, 1000.0),
)
def test_waves_round_trip_within_half_a_step(values, fs):
    samples = np.asarray(values, np.float32)
    block = WaveBlock(131330, fs, T, samples, "mV", "II")
    waves = decode_waves(encode_waves(T, [block]))
    assert waves.t == T and len(waves.blocks) == 1
    back = waves.blocks[0]
    assert (back.code, back.fs, back.t0, back.unit, back.label) == (131330, fs, T, "mV", "II")
    scale = max(0.005, float(np.max(np.abs(samples))) / 16383)
    assert np.max(np.abs(back.samples - samples)) <= scale / 2 + 1e-6


def test_a_nan_gap_or_a_jump_in_time_splits_a_wave_into_blocks():
    times = T + np.arange(500) / 250.0
    times[300:] += 1.0  # a second missing
    values = np.sin(np.arange(500) / 20.0).astype(np.float32)
    values[100:110] = np.nan
    blocks = split_runs(150452, 250.0, times, values, "", "Pleth")
    assert [(len(b.samples), b.t0) for b in blocks] == [(100, T), (190, T + 110 / 250.0), (200, times[300])]
    back = decode_waves(encode_waves(T, blocks)).blocks
    assert [len(b.samples) for b in back] == [100, 190, 200]
    for a, b in zip(blocks, back, strict=True):
        step = float(np.max(np.abs(a.samples))) / 4000
        assert np.max(np.abs(a.samples - b.samples)) <= step  # other units: about 12 bits of the peak


def test_a_nan_inside_a_block_is_refused_at_encoding():
    with pytest.raises(WavesError, match="NaN"):
        encode_waves(T, [WaveBlock(1, 250.0, T, np.array([1.0, np.nan], np.float32))])


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([1, 2], "map"),
        ({"v": 2, "t": T, "blocks": []}, "version 2"),
        ({"v": 1, "t": "x", "blocks": []}, "'t'"),
        (
            {
                "v": 1,
                "t": T,
                "blocks": [
                    {"code": 1, "fs": 250.0, "t0": T, "scale": 0.005, "n": 4, "data": b"not zlib at all"}
                ],
            },
            "zlib",
        ),
        (
            {
                "v": 1,
                "t": T,
                "blocks": [
                    {
                        "code": 1,
                        "fs": 250.0,
                        "t0": T,
                        "scale": 0.005,
                        "n": 4,
                        "data": zlib.compress(b"\x00" * 4000),
                    }
                ],
            },
            "does not hold n samples",
        ),
        (
            {
                "v": 1,
                "t": T,
                "blocks": [{"code": 1, "fs": -1.0, "t0": T, "scale": 0.005, "n": 1, "data": b""}],
            },
            "fs",
        ),
        (
            {
                "v": 1,
                "t": T,
                "blocks": [{"code": 1, "fs": 250.0, "t0": T, "scale": 0.005, "n": 10**9, "data": b""}],
            },
            "'n'",
        ),
    ],
)
def test_a_bad_waves_message_is_refused_with_its_reason(doc, reason):
    with pytest.raises(WavesError, match=reason):
        decode_waves(cbor2.dumps(doc))


def test_an_oversized_waves_message_is_refused_before_parsing():
    with pytest.raises(WavesError, match="over"):
        decode_waves(b"\x00" * (WAVES_MAX_BYTES + 1))


# -- topics -----------------------------------------------------------------------------------------------
def test_topics_are_built_and_parsed_as_the_tree_documents():
    assert bed_topic("general", "icu", "bed01", Kind.ALARMS) == "wardwatch/general/icu/bed01/alarms"
    assert bed_topic("general", "icu", "bed01", Kind.ACK_RESULT) == "wardwatch/general/icu/bed01/ack/result"
    assert status_topic("general", "icu") == "wardwatch/general/icu/_station/status"
    assert ward_filter("general", "icu") == "wardwatch/general/icu/#"
    assert ward_filter("general", "*") == "wardwatch/general/+/#"
    assert request_filters("general", "icu") == (
        "wardwatch/general/icu/+/ack",
        "wardwatch/general/icu/+/waves/want",
    )
    assert parse_topic("wardwatch/general/icu/bed01/waves/want") == Topic(
        "general", "icu", "bed01", Kind.WAVES_WANT
    )
    assert parse_topic("wardwatch/general/icu/_station/status") == Topic("general", "icu", None, Kind.STATUS)
    for foreign in (
        "wardwatch/general/icu/bed01",
        "wardwatch/general/icu/bed01/gossip",
        "wardwatch/general/icu/_station/alarms",
        "wardwatch/general/icu/bed01/status",
        "other/general/icu/bed01/alarms",
        "wardwatch/gen eral/icu/bed01/alarms",
    ):
        assert parse_topic(foreign) is None


def test_a_slug_is_refused_with_what_is_allowed_and_a_station_name_becomes_one():
    assert check_slug("icu-north.2_a") == "icu-north.2_a"
    for bad in ("", "icu north", "a/b", "+", "#", "x" * 65, "_station", 5):
        with pytest.raises(TopicError, match=r"must be 1 to 64|reserved"):
            check_slug(bad, "ward")
    assert slugify("WardWatch central") == "wardwatch-central"
    assert slugify("ICU 2 (north)") == "icu-2-north"
    assert slugify("  ///  ") == "ward"
    with pytest.raises(TopicError):
        bed_topic("general", "icu", "_station", Kind.INFO)


# -- settings ---------------------------------------------------------------------------------------------
def test_broker_urls_give_tls_host_and_default_ports():
    assert (parse_url("mqtt://127.0.0.1").tls, parse_url("mqtt://127.0.0.1").port) == (False, 1883)
    secure = parse_url("mqtts://broker.hospital:8884")
    assert (secure.tls, secure.host, secure.port, str(secure)) == (
        True,
        "broker.hospital",
        8884,
        "mqtts://broker.hospital:8884",
    )
    for bad, reason in (
        ("http://x", "mqtt:// or mqtts://"),
        ("mqtt://user:pw@x", "must not hold a user or password"),
        ("mqtt://", "names no host"),
        ("mqtt://x:99999", "not valid"),
        ("mqtt://x/topic", "just scheme"),
    ):
        with pytest.raises(SettingsError, match=reason):
            parse_url(bad)


def test_a_view_names_wards_of_a_site_and_all_wards_with_a_star():
    assert parse_view("general/icu,cardio") == (ViewTarget("general", "icu"), ViewTarget("general", "cardio"))
    assert parse_view("general/*") == (ViewTarget("general", "*"),)
    assert parse_view("a/x, b/y") == (ViewTarget("a", "x"), ViewTarget("b", "y"))
    for bad in ("", "icu", "general/ic u", "general/"):
        with pytest.raises(ValueError):
            parse_view(bad)


def _args(**given: object) -> argparse.Namespace:
    names = ("mqtt", "view", "mqtt_ca", "mqtt_cert", "mqtt_key", "mqtt_user")
    return argparse.Namespace(**{n: given.get(n) for n in names})


def test_settings_come_from_the_config_and_the_flags_and_the_password_from_the_environment(tmp_path: Path):
    assert settings_from(StationConfig(), _args(), env={}) is None  # no broker: not shared
    config = StationConfig(station_name="ICU North", mqtt_url="mqtt://cfg:1883", mqtt_username="cfg-user")
    s = settings_from(
        config, _args(mqtt="mqtts://flag:8883", mqtt_user="flag-user"), env={PASSWORD_ENV: "s3cret"}
    )
    assert s is not None
    assert (str(s.url), s.username, s.password, s.site, s.ward) == (
        "mqtts://flag:8883",
        "flag-user",
        "s3cret",
        "site",
        "icu-north",
    )
    assert "s3cret" not in repr(s) and "s3cret" not in s.describe()
    password_file = tmp_path / "pw"
    password_file.write_text("from-file\n")
    config = StationConfig(
        mqtt_url="mqtt://cfg",
        mqtt_username="u",
        mqtt_password_file=password_file,
        mqtt_site="general",
        mqtt_ward="icu",
    )
    s = settings_from(config, _args(view="general/*"), env={})
    assert s is not None and s.password == "from-file" and (s.site, s.ward) == ("general", "icu")
    assert s.view == (ViewTarget("general", "*"),)


@pytest.mark.parametrize(
    ("config", "args", "reason"),
    [
        (StationConfig(mqtt_url="mqtt://x"), _args(mqtt_ca=Path("/nonexistent/ca.pem")), "does not exist"),
        (StationConfig(mqtt_url="mqtt://x"), _args(mqtt_cert=Path("/etc/hostname")), "needs its key"),
        (
            StationConfig(mqtt_url="mqtt://x", mqtt_password_file=Path("/nonexistent")),
            _args(),
            "password_file",
        ),
    ],
)
def test_unusable_settings_say_why(config, args, reason):
    with pytest.raises(SettingsError, match=reason):
        settings_from(config, args, env={})


def test_a_password_without_a_user_is_refused():
    with pytest.raises(SettingsError, match="needs \\[mqtt\\] username"):
        settings_from(StationConfig(mqtt_url="mqtt://x"), _args(), env={PASSWORD_ENV: "pw"})


def test_the_mqtt_section_of_the_config_file_is_read_and_checked(tmp_path: Path):
    text = (
        '[mqtt]\nurl = "mqtts://broker:8883"\nsite = "general"\nward = "icu north"\n'
        'keepalive_s = 10\nsound = "high"\n'
    )
    loaded = parse_config(text, tmp_path / "wardwatch.toml")
    c = loaded.config
    assert (c.mqtt_url, c.mqtt_site, c.mqtt_ward, c.mqtt_keepalive_s, c.mqtt_sound) == (
        "mqtts://broker:8883",
        "general",
        None,
        10.0,
        "high",
    )
    assert any("mqtt.ward" in m and "line 4" in m for m in loaded.messages)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"v":1,"kind":"status","station":"s","state":"online","t":1.7e12,"beds":[],"version":""}', "'t'"),
        (b'{"v":1,"kind":"status","station":"s","state":"online","t":0,"beds":[],"version":""}', "'t'"),
        (b'{"v":1,"kind":"news2","t":1.7e12,"score":1,"band":"low","complete":true,"detail":""}', "'t'"),
        (
            b'{"v":1,"kind":"technical","t":1780000000,"link":null,'
            b'"conditions":[{"kind":"lead_off","detail":"","since":1.7e12}]}',
            "'since'",
        ),
    ],
)
def test_a_time_outside_2000_to_a_day_ahead_is_refused_with_the_reason(raw: bytes, field: str) -> None:
    with pytest.raises(PayloadError, match=f"{field} is not a plausible time"):
        decode(raw)


def test_waves_with_a_time_in_milliseconds_are_refused() -> None:
    with pytest.raises(WavesError, match="plausible time"):
        decode_waves(cbor2.dumps({"v": 1, "t": T * 1000, "blocks": []}))
