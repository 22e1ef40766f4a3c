"""LTI 1.3: Lectern as a tool in Moodle or Canvas.

Login initiation, launches into courses, Deep Linking and grades sent back.
"""
