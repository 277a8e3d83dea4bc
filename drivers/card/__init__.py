"""The card reader: pyscard against pcscd, the JPKI session, and the virtual My Number Card."""
