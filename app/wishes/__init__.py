"""Micro-wishes (微心愿): post, review, claim, deliver with a scanned code, thank."""
