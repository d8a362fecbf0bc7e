"""loopback"""
