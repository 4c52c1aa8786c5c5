// The NHS.UK frontend's components (header menu, skip link, details, error summary).
import { initAll } from './nhsuk/nhsuk-frontend.min.js';
document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
initAll();
