"""The recording stage of the simulated day: KPI accumulation, the message log and the database rows.

* :mod:`simulation.recording.recorder`: :class:`~simulation.recording.recorder.Recorder`, fed by the run
  in step order;
* :mod:`simulation.recording.kpi_accumulator`: the KPI sums and the activation-cost formula;
* :mod:`simulation.recording.messages`: the message log (``MESSAGE_BYTES``, who sends what to whom);
* :mod:`simulation.recording.rows`: rows of the results database's tables.

The database itself (schema, writer, readers) is :mod:`simulation.db`.
"""
