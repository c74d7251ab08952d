"""Documents for people: reports as PDF, CSV and HTML, in a language, on the local clock."""
