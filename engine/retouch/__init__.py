"""Instant studio retouch on the CPU: framing, background, light and colour, profile kit.

Importing the package loads nothing heavy; the public API lives in the submodules:
`retoucher.Retoucher`, `profile.profile_kit`, `pick.pick_best`, `sheet.contact_sheet`, and
`worker` for process pools.
"""
