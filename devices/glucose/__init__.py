"""glucose"""
