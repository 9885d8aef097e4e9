"""The names of the actions a person can take, as the permission matrix (resources/permissions.toml)
spells them. New actions are added here and to a role in the matrix; the check refuses any name that
no role lists, so a forgotten entry fails closed."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    VIEW = "station.view"
    ACKNOWLEDGE = "alarm.acknowledge"
    ACKNOWLEDGE_REMOTE = "alarm.acknowledge_remote"  # another station's alarm, over the hospital network
    AUDIO_PAUSE = "alarm.audio_pause"
    OBSERVATION = "observation.enter"  # NEWS2 observations, fingerstick glucose
    NOTE = "note.add"
    ESCALATION = "alarm.escalation"
    LIMITS_WARD = "limits.ward"
    LIMITS_PATIENT = "limits.patient"
    ASSIGN_SOURCE = "bed.assign_source"
    ADMIT = "patient.admit"
    MOVE = "patient.move"
    DISCHARGE = "patient.discharge"
    REVIEW = "record.review"
    HANDOVER = "report.handover"
    EXPORT = "export.data"
    DEVICE_SETTINGS = "device.settings"
    USER_MANAGE = "user.manage"
    RETENTION = "settings.retention"
    INTEROP_SETTINGS = "settings.interop"
    STATION_SETTINGS = "settings.station"
    SECURITY_SETTINGS = "settings.security"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    AUDIT_VERIFY = "audit.verify"
    BACKUP = "record.backup"
    RESTORE = "record.restore"
    UPGRADE = "record.upgrade"
    CHECK = "record.check"
    DIAGNOSTICS = "diagnostics.bundle"


class Role(StrEnum):
    VIEWER = "viewer"
    NURSE = "nurse"
    CHARGE_NURSE = "charge_nurse"
    CLINICIAN = "clinician"
    ADMIN = "admin"


# What the station's own machinery does (alarm engine, recorder) is written to the audit trail as this
# user; it is never a login name (user names are checked against it).
STATION_USER = "station"
# The command line before the first administrator exists (a fresh install) acts as this user.
SETUP_USER = "setup"
