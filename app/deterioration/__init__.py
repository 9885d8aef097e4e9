"""deterioration"""
