"""Exporters: the bundle as a .blend (through the add-on's builders) and as a Mitsuba scene."""
