"""The back office: users, supplier applications, the catalogue and orders across
suppliers, bulk actions, audit logs, the admins' feed and activity timeline.

Views are thin over the domains' own operations (accounts, catalog, the order state
machine, notifications); who may call each is the role table (``app/auth/permissions.py``).
"""
