"""Mid-week nudges: a reminder to a manager whose coaching for the week is still open, sent on a
store-local schedule or by their regional lead, and the banner on the manager's week page."""
