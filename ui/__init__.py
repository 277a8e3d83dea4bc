"""The kiosk's faces: the Textual app, the ``kioskctl`` technician CLI, and the start-up wiring."""
