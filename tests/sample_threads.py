"""Flat threads written for the tests, in the scraped style of the reference thread."""

DEBATE = """Town Votes On New Stadium

The town will vote next week on funding a new stadium.


Priya Raman

Public money should never pay for private stadiums.


Hello Priya. I am going to disagree with you. Stadiums bring jobs and visitors.

Priya Raman

Marco thank you. The studies show the jobs are temporary and low paid.


Okay, thank you for your reply. I still disagree, the visitors spend money in town.

Priya Raman

Thank you Marco. Maybe, but the debt stays for thirty years.


Again, I disagree. We will let this go for now.

Priya Raman

Your points are respected.

Dan Osei

Does anyone know when the vote is exactly?
"""
