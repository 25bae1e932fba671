#!/bin/bash
# Drive the real window under Xvfb: open a study from the command line, run it (F5), export the Excel
# report through the File menu (mouse on the menu bar, keyboard in the menu and the file dialog).
# Manual check, not run by pytest (needs Xvfb and xdotool):  bash tests/gui/xdotool_drive.sh
# Writes OUT/report.xlsx and screen grabs OUT/0*.png; prints the workbook's sheets.
set -u
OUT=${OUT:-/tmp/coordstudio-xdo}
PY=${PY:-/work/main/.venv/bin/python}
mkdir -p "$OUT"
cd "$(dirname "$0")/../.."
# a short study: 1 h of its one day (representative_days: 0), two schemes (CMS, LMS)
PYTHONPATH=$PWD $PY - <<PYEOF
from cba.study import default_study, save_study
s = default_study()
t = s.scenario.timing
s.scenario.timing = type(t).model_validate({**t.model_dump(), "duration_h": 1.0})
p = s.scenario.profiles
s.scenario.profiles = type(p).model_validate({**p.model_dump(), "representative_days": 0})
s.scenario.schemes = ["CMS", "LMS"]
s.metadata.title = "Short study for the xdotool drive"
save_study(s, "$OUT/short.yaml")
PYEOF
cat > "$OUT/grab.py" <<PYEOF
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
QGuiApplication.primaryScreen().grabWindow(0).save(sys.argv[1])
PYEOF
export DISPLAY=:77
Xvfb :77 -screen 0 1366x768x24 >$OUT/xvfb.log 2>&1 &
XVFB=$!
sleep 2
export HOME=$OUT/home XDG_CONFIG_HOME=$OUT/home/.config XDG_DATA_HOME=$OUT/home/.local/share
mkdir -p $HOME
rm -f $OUT/report.xlsx
PYTHONPATH=$PWD $PY main.py $OUT/short.yaml >$OUT/app.log 2>&1 &
APP=$!  # `coordstudio STUDY.yaml` (main.py) opens the study in the window
for i in $(seq 60); do
  WID=$(xdotool search --name "short.yaml" 2>/dev/null | head -1)
  [ -n "$WID" ] && break
  sleep 1
done
echo "window: $WID"
xdotool getwindowgeometry $WID
sleep 3
$PY $OUT/grab.py $OUT/01_opened.png
xdotool windowactivate --sync $WID 2>/dev/null; xdotool windowfocus $WID
xdotool key F5
echo "run started"
sleep 40  # a 1 h, two-scheme run takes 15-40 s on a quiet machine
eval $(xdotool getwindowgeometry --shell $WID)
for attempt in $(seq 12); do
  $PY $OUT/grab.py $OUT/02_after_run.png
  # mouse: click "File" on the menu bar (top-left of the window); keyboard in the menu and the dialog
  xdotool mousemove $((X + 20)) $((Y + 8)) click 1
  sleep 1
  $PY $OUT/grab.py $OUT/03_file_menu.png
  xdotool key e        # &Export
  sleep 1
  $PY $OUT/grab.py $OUT/04_export_menu.png
  xdotool key r        # Excel &report…
  sleep 2
  if xdotool search --name "Nothing to export" >/dev/null 2>&1; then
    echo "attempt $attempt: the run has not finished yet (the window says so); waiting"
    xdotool key Return
    sleep 20
    continue
  fi
  $PY $OUT/grab.py $OUT/05_dialog.png
  xdotool key ctrl+a
  xdotool type --delay 20 "$OUT/report.xlsx"
  xdotool key Return
  sleep 4
  $PY $OUT/grab.py $OUT/06_written.png
  break
done
ls -la $OUT/report.xlsx
$PY -c "import openpyxl; wb = openpyxl.load_workbook('$OUT/report.xlsx'); print('sheets:', wb.sheetnames)"
kill $APP; sleep 1; kill -9 $APP 2>/dev/null; kill $XVFB
