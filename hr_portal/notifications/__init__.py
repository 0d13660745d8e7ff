"""Notifications: in-app inbox with a live bell, mail by preference, reminders and digests.

Importing the package subscribes the listeners (module discovery imports notifications.models for
the metadata, so they are in place in every process: the app, the CLI, the tests).
"""

from hr_portal.notifications import listeners as _listeners

_listeners.subscribe_all()
