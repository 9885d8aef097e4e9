"""pumps"""
