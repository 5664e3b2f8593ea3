"""What belongs to no area and serves several: spreadsheet cells, phone numbers, uploaded files, and the two
transports that carry messages out of the machine (SMTP mail, the SMS gateway).

Nothing here knows an area, a request or a job: the areas and the job families call it.
"""
