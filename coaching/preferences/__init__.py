"""A user's own settings: the language they read and, for store managers, mid-week reminders."""
