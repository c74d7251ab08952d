// The urgent page: its file picker hashes files on this device like the report form.

import { enhanceFilePicker } from "./files.js";

const picker = document.querySelector("form.urgent-form [data-file-picker]");
if (picker) enhanceFilePicker(picker);
