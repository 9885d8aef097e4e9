"""The hourly table of the PhysioNet/CinC Challenge 2019 (Reyna et al., Crit Care Med 2020), which is the
shape every part of this feature speaks: the trainer, `eval deterioration` and the station's hourly rows.
"""

from __future__ import annotations

VITALS: tuple[str, ...] = ("HR", "O2Sat", "Temp", "SBP", "MAP", "DBP", "Resp", "EtCO2")
LABS: tuple[str, ...] = (
    "BaseExcess",
    "HCO3",
    "FiO2",
    "pH",
    "PaCO2",
    "SaO2",
    "AST",
    "BUN",
    "Alkalinephos",
    "Calcium",
    "Chloride",
    "Creatinine",
    "Bilirubin_direct",
    "Glucose",
    "Lactate",
    "Magnesium",
    "Phosphate",
    "Potassium",
    "Bilirubin_total",
    "TroponinI",
    "Hct",
    "Hgb",
    "PTT",
    "WBC",
    "Fibrinogen",
    "Platelets",
)
DEMOGRAPHICS: tuple[str, ...] = ("Age", "Gender", "Unit1", "Unit2", "HospAdmTime", "ICULOS")
LABEL = "SepsisLabel"
PATIENT = "patient"
MEASURED: tuple[str, ...] = VITALS + LABS
# Every column the challenge defines, in its order (the table's first column, `patient`, aside).
CHALLENGE_COLUMNS: tuple[str, ...] = MEASURED + DEMOGRAPHICS + (LABEL,)

# What a person reads: name and unit of each measured column (units as the challenge defines them).
WORDS: dict[str, tuple[str, str]] = {
    "HR": ("heart rate", "/min"),
    "O2Sat": ("SpO₂", "%"),
    "Temp": ("temperature", "°C"),
    "SBP": ("systolic BP", "mmHg"),
    "MAP": ("mean BP", "mmHg"),
    "DBP": ("diastolic BP", "mmHg"),
    "Resp": ("respiratory rate", "/min"),
    "EtCO2": ("EtCO₂", "mmHg"),
    "BaseExcess": ("base excess", "mmol/L"),
    "HCO3": ("bicarbonate", "mmol/L"),
    "FiO2": ("FiO₂", ""),
    "pH": ("pH", ""),
    "PaCO2": ("PaCO₂", "mmHg"),
    "SaO2": ("SaO₂", "%"),
    "AST": ("AST", "IU/L"),
    "BUN": ("urea (BUN)", "mg/dL"),
    "Alkalinephos": ("alkaline phosphatase", "IU/L"),
    "Calcium": ("calcium", "mg/dL"),
    "Chloride": ("chloride", "mmol/L"),
    "Creatinine": ("creatinine", "mg/dL"),
    "Bilirubin_direct": ("direct bilirubin", "mg/dL"),
    "Glucose": ("glucose", "mg/dL"),
    "Lactate": ("lactate", "mmol/L"),
    "Magnesium": ("magnesium", "mmol/dL"),
    "Phosphate": ("phosphate", "mg/dL"),
    "Potassium": ("potassium", "mmol/L"),
    "Bilirubin_total": ("total bilirubin", "mg/dL"),
    "TroponinI": ("troponin I", "ng/mL"),
    "Hct": ("haematocrit", "%"),
    "Hgb": ("haemoglobin", "g/dL"),
    "PTT": ("PTT", "s"),
    "WBC": ("white cells", "10³/µL"),
    "Fibrinogen": ("fibrinogen", "mg/dL"),
    "Platelets": ("platelets", "10³/µL"),
}
