"""Attendance: check-in/out, shifts, team view, corrections with approval, monthly summary."""
