"""responders"""
