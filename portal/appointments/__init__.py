"""Counter appointments (issue 9): counters' bookable slots, booking, tickets and check-in.

`availability` is the pure engine (no database, no Flask) that turns a counter's catalog booking
configuration, the office calendar, staff closures and the slots already taken into the start
times a resident may book and the status of each calendar day.
"""
