"""Hand-written word lists the rule baseline reads (a package so the files ship in wheels)."""
