"""Reports: dashboards per community and street, the stats API, the printable twice-monthly
indicator report and the public results wall. The figures come from the domains through
app.core.figures; this package names no other domain."""
