"""The report: aggregate frames, figures, and the markdown pages built from them."""
