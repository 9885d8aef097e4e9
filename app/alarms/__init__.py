"""Alarm system: limits, conditions, priorities, states and the engine that runs them off the GUI thread."""
