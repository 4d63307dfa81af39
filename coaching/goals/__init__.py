"""Managers' goals: set, edit, drop, and their progress toward the target."""
