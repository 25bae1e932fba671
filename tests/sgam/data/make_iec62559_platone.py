"""Writes iec62559_platone_uc_gr_2.xlsx: a filled-in IEC 62559-2 use case, laid out cell by cell by hand.

Source: use case UC-GR-2 "PMU data integration into SE tool" of the H2020 project Platone (version 0.1,
17 June 2020), published in the public smart-grid use-case repository
https://smart-grid-use-cases.github.io/docs/usecases/platone/ (the ERIGrid 2.0 / Platone collection of
IEC 62559-2 templates). Texts are shortened; the template's empty rows ("add text") are left out; the steps
are given one producer and one receiver each (the original lists several producers in step 1 and no
receiver in the internal steps 3-5), and the requirements section, free text in the original, is written as
the template's requirement table. The layout (sheets, numbered headings, column headers) is written here
independently of sgam.iec62559, so that the test checks the exporter against the standard's layout.

Run from the repository root: python tests/sgam/data/make_iec62559_platone.py
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
FILE = HERE / "iec62559_platone_uc_gr_2.xlsx"

SHEETS: dict[str, list[list[object]]] = {
    "1 Description": [
        ["1 Description of the use case"],
        ["1.1 Name of use case"],
        ["ID", "Area / Domain(s) / Zone(s)", "Name of use case"],
        [
            "UC-GR-2",
            "Area: energy system; domains: distribution, DER, customer premises; zones: station, operation",
            "PMU data integration into SE tool",
        ],
        [],
        ["1.2 Version management"],
        ["Version No.", "Date", "Name of author(s)", "Changes", "Approval status"],
        ["0.1", "17th June 2020", "Platone partners (HEDNO, NTUA)", "Initial creation", "Draft"],
        [],
        ["1.3 Scope and objectives of use case"],
        ["Scope", "Integration of PMU measurement data into the state estimation tool of the DSO."],
        [
            "Objective(s)",
            "To reinforce network observability via improved state estimation; to incorporate "
            "synchronised PMU data into the existing conventional measurements.",
        ],
        ["Related business case(s)"],
        [],
        ["1.4 Narrative of use case"],
        [
            "Short description",
            "PMU measurements are integrated in the state estimation tool and enhance network observability.",
        ],
        [
            "Complete description",
            "Actual and historical measurements (AMR, GIS, SCADA, PMUs) are available to the "
            "DSO; the state estimation tool checks observability, reconciles PMU and conventional data and "
            "computes the state vector.",
        ],
        [],
        ["1.5 Key performance indicators (KPI)"],
        ["ID", "Name", "Description", "Reference to mentioned use case objectives"],
        [
            "KPI-GR-2-1",
            "State estimation accuracy",
            "Error of the estimated bus voltages against PMU readings.",
            "Observability objective",
        ],
        [],
        ["1.6 Use case conditions"],
        ["Assumptions", "Prerequisites"],
        [
            "The network topology is known with good certainty.",
            "DSO systems (AMR, GIS, SCADA) operational; PMUs installed.",
        ],
        [],
        ["1.7 Further information to the use case for classification / mapping"],
        ["Relation to other use cases", "Associate with UC-GR-6"],
        ["Level of depth"],
        ["Prioritisation"],
        ["Generic, regional or national relation"],
        ["Nature of the use case", "Technical"],
        ["Further keywords for classification", "PMU, state estimation, observability"],
        [],
        ["1.8 General remarks"],
        ["General remarks"],
    ],
    "2 Diagrams": [
        ["2 Diagrams of use case"],
        ["Diagram", "Description", "File or link"],
    ],
    "3 Technical details": [
        ["3 Technical details"],
        ["3.1 Actors"],
        ["Actor name", "Actor type", "Actor description", "Further information specific to this use case"],
        [
            "DSO",
            "organisation",
            "Distribution system operator.",
            "DMS, DSO technical platform, PMUs, topology",
        ],
        ["PMU", "device", "Phasor measurement unit at a selected bus."],
        ["DSO Data Server", "system", "Collects the field measurements."],
        ["State Estimation tool", "system", "DMS tool estimating the network state from the measurements."],
        [],
        ["3.2 References"],
        [
            "No.",
            "References type",
            "Reference",
            "Status",
            "Impact on use case",
            "Originator / organisation",
            "Link",
        ],
    ],
    "4 Step by step analysis": [
        ["4 Step by step analysis of use case"],
        ["4.1 Overview of scenarios"],
        [
            "No.",
            "Scenario name",
            "Scenario description",
            "Primary actor",
            "Triggering event",
            "Pre-condition",
            "Post-condition",
        ],
        [
            "1",
            "PMU data integration",
            "",
            "PMU",
            "State estimation accuracy to be improved",
            "PMU field installation",
            "High-accuracy state vector",
        ],
        [],
        ["4.2 Steps \u2013 scenarios"],
        ["Scenario name:", "No. 1 - PMU data integration"],
        [
            "Step No.",
            "Event",
            "Name of process / activity",
            "Description of process / activity",
            "Service",
            "Information producer (actor)",
            "Information receiver (actor)",
            "Information exchanged (IDs)",
            "Requirement, R-IDs",
        ],
        [
            1,
            "Measurements from the distribution network",
            "Data acquisition",
            "Field measurements are communicated",
            "REPORT",
            "PMU",
            "DSO Data Server",
            "I-01, I-03",
            "R-1",
        ],
        [
            2,
            "Measurements from the distribution network",
            "Data acquisition",
            "Measurements are passed on",
            "REPORT",
            "DSO Data Server",
            "State Estimation tool",
            "I-01, I-03",
            "R-1",
        ],
        [
            3,
            "Measurements from the distribution network",
            "Output of state estimation",
            "Estimated state vector is communicated",
            "REPORT",
            "State Estimation tool",
            "DSO",
            "I-02",
        ],
    ],
    "5 Information exchanged": [
        ["5 Information exchanged"],
        [
            "Information exchanged, ID",
            "Name of information",
            "Description of information exchanged",
            "Requirement, R-IDs",
        ],
        ["I-01", "Measurements", "Conventional measurements (voltages, power injections)."],
        ["I-03", "PMU measurements", "Voltage magnitudes, voltage and current phasors.", "R-1"],
        ["I-02", "State vector", "Voltage magnitudes and angles of all buses."],
    ],
    "6 Requirements": [
        ["6 Requirements"],
        ["Categories ID", "Category name for requirements", "Category description"],
        ["other", "Other", "Requirements of no other category."],
        ["Requirement R-ID", "Requirement name", "Requirement description"],
        ["R-1", "PMU field installation", "PMUs are installed at the selected buses."],
    ],
    "7 Common terms": [
        ["7 Common terms and definitions"],
        ["Term", "Definition"],
        ["Phasor measurement", "Magnitude and phase angle of a voltage or current, synchronised by GPS."],
        [
            "Pseudo-measurement",
            "An injection taken from load forecasts or schedules in place of a missing measurement.",
        ],
    ],
    "8 Custom information": [
        ["8 Custom information"],
        ["Key", "Value", "Refers to section"],
    ],
}


def main() -> None:
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for name, rows in SHEETS.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                ws.cell(row=r, column=c, value=value if value != "" else None)
    wb.save(FILE)


if __name__ == "__main__":
    main()
