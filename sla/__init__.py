"""Service levels: the working calendar, targets per priority and category, clocks, warnings, breaches."""
