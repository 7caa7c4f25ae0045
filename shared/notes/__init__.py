"""The notes' own rules, pure: evidence for summary items, and (as modules move here) transcripts and
summaries themselves."""
