"""Interchange formats: dpledger histories in and out."""
