"""Verification of arrhythmia alarms against every available signal (ECG leads, pleth, arterial pressure)."""
