"""Kept for stacks applied before the move to infra/providers/: their state names the
dynamic provider by this module path (dill pickles classes by reference), and refresh
and destroy unpickle it from there. The next update of such a resource re-records it."""

from infra.providers.backup_schedule import BackupScheduleProvider

__all__ = ["BackupScheduleProvider"]
