"""The vocabulary every layer shares: statuses, typed progress records, the error taxonomy and events.

A leaf: nothing here imports anything of stepbatch, so `state`, `browser`, `engine`, `report` and the
sites all import it without pointing upwards.
"""
