"""Logs -> tidy frame -> the paper's metrics -> statistics. Never imports ``peerpres.world``."""
