"""The contact form, the store's contact details and the support inbox of messages."""
